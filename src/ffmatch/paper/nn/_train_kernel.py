"""The numba loops behind ``ffmatch.paper.nn.cpu``: whole trainings of small MLPs, one network
at a time, every step (forward, backward, Adam) in one compiled loop.

Its own module so that importing ``cpu`` does not import numba, and so numba caches the
compiled code on disk. Buffers are flat float32 arrays; ``cpu.Packed`` describes them.
Hidden and output widths are padded to a multiple of ``LANES``, so every inner loop is whole
vectors (``_add``, ``_dot_rows``, ``_mm``, and the elementwise ``_copy``, ``_relu``,
``_where_on``, ``_adam``). Nothing here slices an array: a numba slice takes a reference
count, and its loops kept per-element index checks (the ReLU mask even became a gather and
scatter); as vector code the step took half the time at 56-80-40-2.
"""

# mypy: ignore-errors

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 8
_VEC = ir.VectorType(ir.FloatType(), LANES)
_I32 = ir.IntType(32)
_COLS = 2  # column vectors per block: 4 rows x 2 vectors = 8 sums in registers

# contract: fused multiply-adds; reassoc: reductions in vector lanes. Neither depends on the
# data or the thread, so a result is the same on every run of one machine; between CPUs it
# may differ by float rounding. error_model "numpy": no zero-division branch (it would stop
# vectorisation).
_JIT = {
    "cache": True,
    "nogil": True,
    "boundscheck": False,
    "fastmath": {"contract", "reassoc"},
    "error_model": "numpy",
}


# --- LANES-float vector operations ----------------------------------------------------------
# Written as LLVM vector code because numba cannot tell LLVM that two arrays do not overlap:
# the same loops in Python stay scalar (measured 3-5x slower on these 16-64 wide rows).


def _vec_at(context, builder, array_type, array, index):
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [index]), _VEC.as_pointer())


def _fma(builder, a, b, c):
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(_VEC, [_VEC, _VEC, _VEC]), f"llvm.fma.v{LANES}f32"
    )
    return builder.call(fn, [a, b, c])


def _each_vector(builder, n, body):
    """Call ``body(offset)`` for offset = 0, LANES, ... below ``n`` (a multiple of LANES)."""
    with cgutils.for_range(builder, builder.udiv(n, ir.Constant(n.type, LANES))) as loop:
        body(builder.mul(loop.index, ir.Constant(n.type, LANES)))


@intrinsic
def _copy(typingctx, dst, at, src, src_at, n):
    """dst[at:at + n] = src[src_at:src_at + n], any n: whole vectors, then one by one."""
    sig = types.void(dst, at, src, src_at, n)

    def codegen(context, builder, signature, args):
        dst_v, at_v, src_v, src_at_v, n_v = args
        ta, tb = signature.args[0], signature.args[2]
        whole = builder.mul(
            builder.udiv(n_v, ir.Constant(n_v.type, LANES)), ir.Constant(n_v.type, LANES)
        )

        def vector(k):
            s = _vec_at(context, builder, tb, src_v, builder.add(src_at_v, k))
            d = _vec_at(context, builder, ta, dst_v, builder.add(at_v, k))
            builder.store(builder.load(s, align=4), d, align=4)

        _each_vector(builder, whole, vector)
        with cgutils.for_range(builder, builder.sub(n_v, whole)) as loop:
            k = builder.add(whole, loop.index)
            s = _elem_ptr(context, builder, tb, src_v, builder.add(src_at_v, k))
            d = _elem_ptr(context, builder, ta, dst_v, builder.add(at_v, k))
            builder.store(builder.load(s), d)
        return context.get_dummy_value()

    return sig, codegen


_ZEROS = ir.Constant(_VEC, [0.0] * LANES)


def _in_place(transform):
    """An intrinsic (a, at, n) setting a[at:at + n] = transform(builder, a[at:at + n]),
    vector by vector; n a multiple of LANES."""

    @intrinsic
    def in_place(typingctx, a, at, n):
        sig = types.void(a, at, n)

        def codegen(context, builder, signature, args):
            a_v, at_v, n_v = args

            def vector(k):
                ptr = _vec_at(context, builder, signature.args[0], a_v, builder.add(at_v, k))
                builder.store(transform(builder, builder.load(ptr, align=4)), ptr, align=4)

            _each_vector(builder, n_v, vector)
            return context.get_dummy_value()

        return sig, codegen

    return in_place


# a[at:at + n] = 0 (LLVM drops the unused load)
_zero = _in_place(lambda builder, x: _ZEROS)


def _max0(builder, x):
    """max(x, 0), a NaN staying NaN, as numba's ``max(x, 0.0)``."""
    return builder.select(builder.fcmp_ordered(">", _ZEROS, x), _ZEROS, x)


_relu = _in_place(_max0)  # a[at:at + n] = max(a, 0)


def _update(transform):
    """An intrinsic (dst, at, src, src_at, n) setting dst[at:at + n] =
    transform(builder, dst[at:at + n], src[src_at:src_at + n]), vector by vector; n a
    multiple of LANES."""

    @intrinsic
    def update(typingctx, dst, at, src, src_at, n):
        sig = types.void(dst, at, src, src_at, n)

        def codegen(context, builder, signature, args):
            dst_v, at_v, src_v, src_at_v, n_v = args

            def vector(k):
                d = _vec_at(context, builder, signature.args[0], dst_v, builder.add(at_v, k))
                s = _vec_at(context, builder, signature.args[2], src_v, builder.add(src_at_v, k))
                new = transform(builder, builder.load(d, align=4), builder.load(s, align=4))
                builder.store(new, d, align=4)

            _each_vector(builder, n_v, vector)
            return context.get_dummy_value()

        return sig, codegen

    return update


# dst[at:at + n] += src[src_at:src_at + n]
_add = _update(lambda builder, d, s: builder.fadd(s, d))


def _off_to_zero(builder, g, acts):
    """g where the unit was on (acts > 0, or NaN), else 0."""
    return builder.select(builder.fcmp_ordered("<=", acts, _ZEROS), _ZEROS, g)


# g[at:at + n] = 0 where acts[a_at:a_at + n] <= 0 (the unit was off)
_where_on = _update(_off_to_zero)


@intrinsic
def _adam(typingctx, params, m, v, grads, off, n, step, eps):
    """torch.optim.Adam's update of params[off:off + n] (betas 0.9, 0.999), its moments m
    and v at the same offsets, gradients grads[:n]; bias corrections folded into ``step``
    (negative) and ``eps``. n a multiple of LANES."""
    sig = types.void(params, m, v, grads, off, n, step, eps)

    def codegen(context, builder, signature, args):
        p_v, m_v, v_v, g_v, off_v, n_v, step_v, eps_v = args
        tp, tm, tv, tg = signature.args[:4]

        def const(x):
            return ir.Constant(_VEC, [x] * LANES)

        sqrt = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_VEC, [_VEC]), f"llvm.sqrt.v{LANES}f32"
        )
        step_s, eps_s = _splat(builder, step_v), _splat(builder, eps_v)

        def vector(k):
            at = builder.add(off_v, k)
            pp = _vec_at(context, builder, tp, p_v, at)
            mp = _vec_at(context, builder, tm, m_v, at)
            vp = _vec_at(context, builder, tv, v_v, at)
            g = builder.load(_vec_at(context, builder, tg, g_v, k), align=4)
            m0, v0 = builder.load(mp, align=4), builder.load(vp, align=4)
            m1 = _fma(builder, builder.fsub(g, m0), const(0.1), m0)  # m + 0.1 (g - m)
            v1 = _fma(builder, builder.fmul(g, g), const(0.001), builder.fmul(v0, const(0.999)))
            denom = builder.fadd(builder.call(sqrt, [v1]), eps_s)
            update = builder.fdiv(builder.fmul(step_s, m1), denom)
            builder.store(builder.fadd(update, builder.load(pp, align=4)), pp, align=4)
            builder.store(m1, mp, align=4)
            builder.store(v1, vp, align=4)

        _each_vector(builder, n_v, vector)
        return context.get_dummy_value()

    return sig, codegen


def _splat(builder, x):
    one = builder.insert_element(ir.Constant(_VEC, ir.Undefined), x, ir.Constant(_I32, 0))
    mask = ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES)
    return builder.shuffle_vector(one, ir.Constant(_VEC, ir.Undefined), mask)


def _elem_ptr(context, builder, array_type, array, index):
    data = context.make_array(array_type)(context, builder, array).data
    return builder.gep(data, [index])


def _shuffle(builder, x, y, mask):
    return builder.shuffle_vector(x, y, ir.Constant(ir.VectorType(_I32, len(mask)), mask))


def _transpose_sums(builder, v):
    """The lane sums of LANES vectors as one vector (lane q: the sum of v[q]), in three
    levels of shuffles: pairs of lanes, quads, halves."""
    v = [
        builder.fadd(
            _shuffle(builder, v[2 * k], v[2 * k + 1], [0, 8, 2, 10, 4, 12, 6, 14]),
            _shuffle(builder, v[2 * k], v[2 * k + 1], [1, 9, 3, 11, 5, 13, 7, 15]),
        )
        for k in range(4)
    ]
    v = [
        builder.fadd(
            _shuffle(builder, v[2 * k], v[2 * k + 1], [0, 1, 8, 9, 4, 5, 12, 13]),
            _shuffle(builder, v[2 * k], v[2 * k + 1], [2, 3, 10, 11, 6, 7, 14, 15]),
        )
        for k in range(2)
    ]
    return builder.fadd(
        _shuffle(builder, v[0], v[1], [0, 1, 2, 3, 8, 9, 10, 11]),
        _shuffle(builder, v[0], v[1], [4, 5, 6, 7, 12, 13, 14, 15]),
    )


def _dot_rows(rows):
    """An intrinsic for ``rows`` rows of a at once (each row of b loaded once for all):
    out[out_at + p step + q] = sum(a[a_at + p step:][:n] * b[b_at + q b_step:][:n]) for
    p < rows, q < LANES; n a multiple of LANES. Each sum is in the same order whatever
    ``rows`` is."""
    assert LANES == 8  # _transpose_sums is written for 8 lanes

    @intrinsic
    def dots(typingctx, out, out_at, a, a_at, step, b, b_at, b_step, n):
        sig = types.void(out, out_at, a, a_at, step, b, b_at, b_step, n)

        def codegen(context, builder, signature, args):
            out_v, out_at_v, a_v, a_at_v, step_v, b_v, b_at_v, b_step_v, n_v = args
            i64 = n_v.type

            def at(base, stride, k, col):  # base + k stride + col
                return builder.add(builder.add(base, builder.mul(stride, ir.Constant(i64, k))), col)

            def load(arg, array, index):
                ptr = _vec_at(context, builder, signature.args[arg], array, index)
                return builder.load(ptr, align=4)

            zero = ir.Constant(_VEC, [0.0] * LANES)
            accs = [
                [cgutils.alloca_once_value(builder, zero) for _ in range(LANES)]
                for _ in range(rows)
            ]
            with cgutils.for_range(builder, builder.udiv(n_v, ir.Constant(i64, LANES))) as loop:
                col = builder.mul(loop.index, ir.Constant(i64, LANES))
                xs = [load(2, a_v, at(a_at_v, step_v, p, col)) for p in range(rows)]
                for q in range(LANES):
                    y = load(5, b_v, at(b_at_v, b_step_v, q, col))
                    for p in range(rows):
                        builder.store(_fma(builder, xs[p], y, builder.load(accs[p][q])), accs[p][q])
            zero_col = ir.Constant(i64, 0)
            for p in range(rows):
                total = _transpose_sums(builder, [builder.load(acc) for acc in accs[p]])
                dst = _vec_at(
                    context, builder, signature.args[0], out_v, at(out_at_v, step_v, p, zero_col)
                )
                builder.store(total, dst, align=4)
            return context.get_dummy_value()

        return sig, codegen

    return dots


_dots1 = _dot_rows(1)
_dots2 = _dot_rows(2)


def _emit_block(context, builder, sig, args, rows, cols, col):
    """IR for C[q, col + v LANES : ...] (q < rows, v < cols) of C = A B (+ C): the
    rows x cols vector sums stay in registers over the whole k loop."""
    c_v, c_at_v, c_step_v, a_v, a_at_v, a_step_v, a_k_v, b_v, b_at_v, b_k_v, k_v, _, add_v = args
    ta, tb, tc = sig.args[3], sig.args[7], sig.args[0]
    i64 = k_v.type

    def const(x):
        return ir.Constant(i64, x)

    outs = [
        [
            _vec_at(
                context,
                builder,
                tc,
                c_v,
                builder.add(
                    builder.add(c_at_v, builder.mul(c_step_v, const(q))),
                    builder.add(col, const(v * LANES)),
                ),
            )
            for v in range(cols)
        ]
        for q in range(rows)
    ]
    adding = builder.icmp_unsigned("!=", add_v, ir.Constant(add_v.type, 0))
    accs = [[cgutils.alloca_once(builder, _VEC) for _ in range(cols)] for _ in range(rows)]
    for q in range(rows):
        for v in range(cols):
            start = builder.select(
                adding, builder.load(outs[q][v], align=4), ir.Constant(_VEC, [0.0] * LANES)
            )
            builder.store(start, accs[q][v])
    with cgutils.for_range(builder, k_v) as kk:
        b_row = builder.add(builder.add(b_at_v, builder.mul(kk.index, b_k_v)), col)
        bvs = [
            builder.load(
                _vec_at(context, builder, tb, b_v, builder.add(b_row, const(v * LANES))), align=4
            )
            for v in range(cols)
        ]
        a_row = builder.add(a_at_v, builder.mul(kk.index, a_k_v))
        for q in range(rows):
            at = builder.add(a_row, builder.mul(a_step_v, const(q)))
            x = _splat(builder, builder.load(_elem_ptr(context, builder, ta, a_v, at), align=4))
            for v in range(cols):
                builder.store(_fma(builder, x, bvs[v], builder.load(accs[q][v])), accs[q][v])
    for q in range(rows):
        for v in range(cols):
            builder.store(builder.load(accs[q][v]), outs[q][v], align=4)


def _block_product(rows, cols=_COLS):
    """An intrinsic for ``rows`` rows of C = A B (+ C), ``cols`` vectors of columns at a
    time, then one: see ``_mm``."""

    @intrinsic
    def block(typingctx, c, c_at, c_step, a, a_at, a_step, a_k, b, b_at, b_k, k_len, n, add):
        sig = types.void(c, c_at, c_step, a, a_at, a_step, a_k, b, b_at, b_k, k_len, n, add)

        def codegen(context, builder, signature, args):
            n_v = args[11]
            i64 = n_v.type
            wide = builder.udiv(n_v, ir.Constant(i64, LANES * cols))
            with cgutils.for_range(builder, wide) as group:
                col = builder.mul(group.index, ir.Constant(i64, LANES * cols))
                _emit_block(context, builder, signature, args, rows, cols, col)
            done = builder.mul(wide, ir.Constant(i64, LANES * cols))
            rest = builder.udiv(builder.sub(n_v, done), ir.Constant(i64, LANES))
            with cgutils.for_range(builder, rest) as one:
                col = builder.add(done, builder.mul(one.index, ir.Constant(i64, LANES)))
                _emit_block(context, builder, signature, args, rows, 1, col)
            return context.get_dummy_value()

        return sig, codegen

    return block


_mm4 = _block_product(4)
_mm1 = _block_product(1)


@numba.njit(**_JIT, inline="always")
def _mm(c, c_at, c_step, a, a_at, a_step, a_k, b, b_at, b_k, k_len, n, rows, add):
    """For q < rows and j < n (a multiple of LANES): C[c_at + q c_step + j] = (C[...] if
    add else 0) + sum over k < k_len of A[a_at + q a_step + k a_k] * B[b_at + k b_k + j],
    each sum in order of k. Four rows at a time, their sums kept in vector registers."""
    q = 0
    while q + 4 <= rows:
        _mm4(
            c,
            c_at + q * c_step,
            c_step,
            a,
            a_at + q * a_step,
            a_step,
            a_k,
            b,
            b_at,
            b_k,
            k_len,
            n,
            add,
        )
        q += 4
    while q < rows:
        _mm1(
            c,
            c_at + q * c_step,
            c_step,
            a,
            a_at + q * a_step,
            a_step,
            a_k,
            b,
            b_at,
            b_k,
            k_len,
            n,
            add,
        )
        q += 1


# --- one network ---------------------------------------------------------------------------


@numba.njit(**_JIT, inline="always")
def _forward(params, off, sizes, depth, acts, width, bsz, rows):
    """Layer k of rows ``acts[k][:rows]`` into ``acts[k + 1]`` (row r of layer k starts at
    (k * bsz + r) * width), ReLU on hidden layers: logits in columns 0 and 1 of the last."""
    at = off
    for k in range(depth):
        n_in, n_out = sizes[k], sizes[k + 1]
        bias = at + n_in * n_out
        a0, z0 = k * bsz * width, (k + 1) * bsz * width
        for r in range(rows):
            _copy(acts, z0 + r * width, params, bias, n_out)
        # z[r] += sum over i of a[r, i] W[i]: rows four at a time, sums kept in registers.
        _mm(acts, z0, width, acts, a0, width, 1, params, at, n_out, n_in, n_out, rows, True)
        if k < depth - 1:
            _relu(acts, z0, rows * width)
        at = bias + n_out


@numba.njit(**_JIT, inline="always")
def _step(
    params, grads, m, v, off, n_params, sizes, depth, acts, width, bsz, g, gb, labels, rows, lr, t
):
    """One Adam step (number ``t``, 1-based) on the ``rows`` inputs in acts' layer 0 with
    their labels: torch.optim.Adam's arithmetic on the mean cross-entropy over the rows."""
    _forward(params, off, sizes, depth, acts, width, bsz, rows)
    # Logits' gradient: (softmax(z) - onehot(y)) / rows, as the mean over the batch gives.
    scale = np.float32(1.0) / np.float32(rows)
    z0 = depth * bsz * width
    _zero(g, 0, rows * width)
    for r in range(rows):
        l0, l1 = acts[z0 + r * width], acts[z0 + r * width + 1]
        hi = max(l0, l1)
        e0, e1 = np.exp(l0 - hi), np.exp(l1 - hi)
        s = e0 + e1
        g[r * width] = e0 / s * scale - (scale if labels[r] == 0 else np.float32(0.0))
        g[r * width + 1] = e1 / s * scale - (scale if labels[r] == 1 else np.float32(0.0))
    # Backward, last layer first: dW = a^T g, db = sum of g over rows, and the gradient
    # below is (g W^T) where the unit was active.
    end = n_params
    for k in range(depth - 1, -1, -1):
        n_in, n_out = sizes[k], sizes[k + 1]
        b_at = end - n_out
        w_at = b_at - n_in * n_out
        a0 = k * bsz * width
        if k:
            # The gradient below, g W^T, LANES units at a time; zero where a unit was off.
            # The gradient below, g W^T, LANES units at a time (two rows of g share each
            # load of W); zero where a unit was off.
            r = 0
            while r < rows:
                for i in range(0, n_in, LANES):
                    w = off + w_at + i * n_out
                    if r + 1 < rows:
                        _dots2(gb, r * width + i, g, r * width, width, params, w, n_out, n_out)
                    else:
                        _dots1(gb, r * width + i, g, r * width, width, params, w, n_out, n_out)
                r += 2
            for r in range(rows):
                _where_on(gb, r * width, acts, a0 + r * width, n_in)
        _zero(grads, b_at, n_out)
        for r in range(rows):
            _add(grads, b_at, g, r * width, n_out)
        # dW[i] = sum over rows r of a[r, i] g[r]: dW rows four at a time.
        _mm(grads, w_at, n_out, acts, a0, 1, width, g, 0, width, rows, n_out, n_in, False)
        g, gb = gb, g
        end = w_at
    # Adam (betas 0.9, 0.999; eps 1e-8) with both bias corrections folded into the step.
    bias1 = 1.0 - 0.9**t
    bias2_sqrt = math.sqrt(1.0 - 0.999**t)
    step = np.float32(-lr * bias2_sqrt / bias1)
    eps = np.float32(1e-8 * bias2_sqrt)
    _adam(params, m, v, grads, off, n_params, step, eps)


@numba.njit(**_JIT, inline="always")
def _evaluate(
    params, off, sizes, depth, acts, width, bsz, x, x_at, d, y, y_at, n_rows, proba, p_at
):
    """Mean cross-entropy and accuracy of the network on ``n_rows`` rows, in row order;
    P(label 1) of each row into proba[p_at:] when p_at >= 0."""
    loss, hits = 0.0, 0
    z0 = depth * bsz * width
    for r0 in range(0, n_rows, bsz):
        rows = min(bsz, n_rows - r0)
        for r in range(rows):
            _copy(acts, r * width, x, x_at + (r0 + r) * d, d)
        _forward(params, off, sizes, depth, acts, width, bsz, rows)
        for r in range(rows):
            l0, l1 = acts[z0 + r * width], acts[z0 + r * width + 1]
            hi = max(l0, l1)
            lse = hi + np.log(np.exp(l0 - hi) + np.exp(l1 - hi))
            label = y[y_at + r0 + r]
            loss += lse - (l1 if label == 1 else l0)
            hits += (1 if l1 > l0 else 0) == label  # a tie goes to label 0, as argmax
            if p_at >= 0:
                proba[p_at + r0 + r] = np.exp(l1 - lse)
    return loss / max(n_rows, 1), hits / max(n_rows, 1)


@numba.njit(**_JIT)
def train_networks(
    nets,
    x,
    y,
    x_at,
    y_at,
    d_in,
    n_train,
    n_val,
    order,
    order_at,
    params,
    m,
    v,
    p_at,
    n_params,
    sizes,
    depth,
    epochs,
    lr,
    batch,
    stats,
    stats_at,
    proba,
    proba_at,
    every_epoch,
):
    """Train networks ``nets`` (indices) start to end; see ``cpu.Packed`` for the arrays."""
    for t in range(nets.shape[0]):
        i = nets[t]
        d, nt, nv, bsz, nd = d_in[i], n_train[i], n_val[i], batch[i], depth[i]
        sz = sizes[i, : nd + 1]
        width = LANES
        for k in range(nd + 1):
            width = max(width, -(-sz[k] // LANES) * LANES)
        acts = np.zeros((nd + 1) * bsz * width, np.float32)
        g = np.zeros(bsz * width, np.float32)
        gb = np.zeros(bsz * width, np.float32)
        grads = np.zeros(n_params[i], np.float32)
        labels = np.zeros(bsz, np.int64)
        n_batches = (nt + bsz - 1) // bsz
        off, x0, y0, o0 = p_at[i], x_at[i], y_at[i], order_at[i]
        for e in range(epochs[i]):
            for b in range(n_batches):
                rows = min(bsz, nt - b * bsz)
                for r in range(rows):
                    row = order[o0 + e * nt + b * bsz + r]
                    labels[r] = y[y0 + row]
                    _copy(acts, r * width, x, x0 + row * d, d)
                _step(
                    params,
                    grads,
                    m,
                    v,
                    off,
                    n_params[i],
                    sz,
                    nd,
                    acts,
                    width,
                    bsz,
                    g,
                    gb,
                    labels,
                    rows,
                    lr[i],
                    e * n_batches + b + 1,
                )
            if every_epoch or e == epochs[i] - 1:
                s = stats_at[i] + 4 * e
                stats[s], stats[s + 1] = _evaluate(
                    params, off, sz, nd, acts, width, bsz, x, x0, d, y, y0, nt, proba, -1
                )
                if nv:
                    p = proba_at[i] if e == epochs[i] - 1 else -1
                    stats[s + 2], stats[s + 3] = _evaluate(
                        params,
                        off,
                        sz,
                        nd,
                        acts,
                        width,
                        bsz,
                        x,
                        x0 + nt * d,
                        d,
                        y,
                        y0 + nt,
                        nv,
                        proba,
                        p,
                    )
