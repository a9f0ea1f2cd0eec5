"""Networks: the paper's MLP as plain weights, and the batched trainer of many MLPs."""
