// ffmatch's page: drop zones for the file inputs, a busy note while the server works,
// decisions sent to the JSON API, and focus moved to a new result. Plain JavaScript; every
// form also works without it.
"use strict";

function showPreview(zone, input) {
  const img = zone.querySelector(".preview");
  const file = input.files && input.files[0];
  if (!img || !file) return;
  img.src = URL.createObjectURL(file);
  img.alt = "Chosen: " + file.name;
  img.hidden = false;
}

function setUpDrop(zone) {
  const input = zone.querySelector("input[type=file]");
  input.addEventListener("change", () => showPreview(zone, input));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    const dt = new DataTransfer();
    dt.items.add(e.dataTransfer.files[0]);
    input.files = dt.files;
    showPreview(zone, input);
  });
}

function setUpBusy(form) {
  form.addEventListener("submit", () => {
    const status = form.querySelector(".status");
    if (status) status.textContent = form.dataset.busy;
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  });
}

async function decide(form, decision) {
  const status = form.querySelector(".status");
  const data = new FormData(form);
  const body = { a: data.get("a"), b: data.get("b"), decision: decision,
                 note: data.get("note") || null };
  status.textContent = "Saving…";
  const res = await fetch("/api/decisions", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (res.status === 201) {
    const words = { same: "same person", different: "different people", unsure: "unsure" };
    status.textContent = "Recorded: " + words[decision] + ".";
    const item = form.closest(".candidate");
    if (item) item.classList.add("decided");
  } else {
    const detail = await res.json().catch(() => ({ detail: res.statusText }));
    status.textContent = "Not recorded: " + (detail.detail || res.statusText);
  }
}

function setUpDecide(form) {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const decision = e.submitter ? e.submitter.value : "unsure";
    decide(form, decision);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-drop]").forEach(setUpDrop);
  document.querySelectorAll("form[data-busy]").forEach(setUpBusy);
  document.querySelectorAll("form[data-decide]").forEach(setUpDecide);
  const result = document.querySelector("[data-focus]");
  if (result) result.focus();
});
