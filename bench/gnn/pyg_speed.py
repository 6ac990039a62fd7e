"""PyTorch Geometric reference for bench/gnn/speed.ts, on CPU, with the same sizes.

GCN: 200 training epochs on Cora (GCNConv x2, hidden 16, dropout 0.5, Adam lr 0.01, weight decay
5e-4 on the first layer, row-normalised dense features, as in PyG's examples/gcn.py).
GraphSAGE: one epoch over the synthetic graph written by speed.ts (SAGEConv mean x2, dropout 0.5
after the hidden layer), on layered blocks from uniform fan-out sampling without replacement.
PyG's own NeighborLoader needs pyg-lib or torch-sparse, which PyPI does not carry as wheels, so
the sampler here is vectorised numpy implementing the same algorithm as carls' NeighborSampler;
its time is reported separately.

Prints one JSON object on stdout.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv, SAGEConv


def load_cora(d: Path):
    meta = json.loads((d / "meta.json").read_text())
    n, f = meta["num_nodes"], meta["num_features"]
    edges = np.loadtxt(d / "edges.csv", delimiter=",", skiprows=1, dtype=np.int64)
    feats = np.loadtxt(d / "features.csv", delimiter=",", skiprows=1, dtype=np.float64)
    labels = np.loadtxt(d / "labels.csv", delimiter=",", skiprows=1, dtype=np.int64)
    x = np.zeros((n, f), dtype=np.float32)
    x[feats[:, 0].astype(np.int64), feats[:, 1].astype(np.int64)] = feats[:, 2]
    s = x.sum(1, keepdims=True)
    x = x / np.where(s == 0, 1, s)
    y = np.zeros(n, dtype=np.int64)
    y[labels[:, 0]] = labels[:, 1]
    train = json.loads((d / "split.json").read_text())["train"]
    edge_index = np.concatenate([edges.T, edges.T[::-1]], axis=1)
    return torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(edge_index)), torch.from_numpy(y), torch.tensor(train), meta["num_classes"]


class GCN(torch.nn.Module):
    def __init__(self, i, h, o):
        super().__init__()
        self.conv1 = GCNConv(i, h, cached=True)
        self.conv2 = GCNConv(h, o, cached=True)

    def forward(self, x, edge_index):
        x = F.dropout(x, 0.5, self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, 0.5, self.training)
        return self.conv2(x, edge_index)


def bench_gcn(cora: Path, epochs: int) -> float:
    x, edge_index, y, train, classes = load_cora(cora)
    torch.manual_seed(0)
    model = GCN(x.shape[1], 16, classes)
    opt = torch.optim.Adam([dict(params=model.conv1.parameters(), weight_decay=5e-4), dict(params=model.conv2.parameters(), weight_decay=0)], lr=0.01)
    model.train()
    start = time.perf_counter()
    for _ in range(epochs):
        opt.zero_grad()
        loss = F.cross_entropy(model(x, edge_index)[train], y[train])
        loss.backward()
        opt.step()
    return time.perf_counter() - start


class SAGE(torch.nn.Module):
    def __init__(self, i, h, o):
        super().__init__()
        self.convs = torch.nn.ModuleList([SAGEConv(i, h, aggr="mean"), SAGEConv(h, o, aggr="mean")])

    def forward(self, x, blocks):
        for l, (edge_index, (n_src, n_dst)) in enumerate(blocks):
            x = self.convs[l]((x, x[:n_dst]), edge_index, size=(n_src, n_dst))
            if l < len(self.convs) - 1:
                x = F.dropout(F.relu(x), 0.5, self.training)
        return x


def sample_blocks(rowptr, col, seeds, fanouts, rng, local):
    """Layered blocks, input side first; each block's dst nodes are the first of its src nodes."""
    dst = seeds
    blocks = []
    for k in fanouts:
        start = rowptr[dst]
        deg = rowptr[dst + 1] - start
        full = np.nonzero(deg <= k)[0]
        fdeg = deg[full]
        f_rows = np.repeat(full, fdeg)
        f_off = np.arange(f_rows.size) - np.repeat(np.cumsum(fdeg) - fdeg, fdeg)
        part = np.nonzero(deg > k)[0]
        pdeg = deg[part]
        seg = np.repeat(np.arange(part.size), pdeg)
        p_off = np.arange(seg.size) - np.repeat(np.cumsum(pdeg) - pdeg, pdeg)
        order = np.lexsort((rng.random(seg.size), seg))
        keep = order[p_off < k]  # within each row (grouped by seg), the k entries with the smallest keys
        p_rows = part[seg[keep]]
        rows = np.concatenate([f_rows, p_rows])
        nbrs = col[np.concatenate([start[f_rows] + f_off, start[p_rows] + p_off[keep]])]
        local[dst] = np.arange(dst.size)
        new = nbrs[local[nbrs] < 0]
        uniq, first = np.unique(new, return_index=True)
        uniq = uniq[np.argsort(first)]
        local[uniq] = np.arange(dst.size, dst.size + uniq.size)
        src = np.concatenate([dst, uniq])
        edge_index = torch.from_numpy(np.stack([local[nbrs], rows]).astype(np.int64))
        local[src] = -1
        blocks.insert(0, (edge_index, (src.size, dst.size)))
        dst = src
    return dst, blocks


def bench_sage(synthetic: Path, fanouts, batch_size: int, hidden: int, max_batches: int | None) -> dict:
    meta = json.loads((synthetic / "meta.json").read_text())
    n, dim = meta["numNodes"], meta["featureDim"]
    rowptr = np.fromfile(synthetic / "rowptr.i32", dtype=np.int32).astype(np.int64)
    col = np.fromfile(synthetic / "colidx.i32", dtype=np.int32).astype(np.int64)
    x = torch.from_numpy(np.fromfile(synthetic / "features.f32", dtype=np.float32).reshape(n, dim))
    y = torch.from_numpy(np.fromfile(synthetic / "labels.i32", dtype=np.int32).astype(np.int64))
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = SAGE(dim, hidden, meta["classes"])
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    local = np.full(n, -1, dtype=np.int64)
    batches = np.array_split(rng.permutation(n), range(batch_size, n, batch_size))
    total = len(batches)
    if max_batches:
        batches = batches[:max_batches]
    model.train()
    sampling = 0.0
    start = time.perf_counter()
    for seeds in batches:
        t = time.perf_counter()
        n_id, blocks = sample_blocks(rowptr, col, seeds, fanouts, rng, local)
        sampling += time.perf_counter() - t
        opt.zero_grad()
        out = model(x[torch.from_numpy(n_id)], blocks)
        loss = F.cross_entropy(out, y[torch.from_numpy(seeds)])
        loss.backward()
        opt.step()
    return {"seconds": time.perf_counter() - start, "sampling_seconds": sampling, "batches": len(batches), "total_batches": total}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cora", type=Path, required=True)
    p.add_argument("--synthetic", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--fanouts", default="25,10")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--max-batches", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    result["gcn_seconds"] = bench_gcn(a.cora, a.epochs)
    result["sage"] = bench_sage(a.synthetic, [int(k) for k in a.fanouts.split(",")], a.batch_size, a.hidden, a.max_batches or None)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
