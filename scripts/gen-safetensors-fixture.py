"""Writes test/fixtures/io/torch-tensors.safetensors and its expected values (JSON).

The safetensors pip package is not installed next to Debian's PyTorch, so the file is laid out by
hand exactly as the reference writer does it: 8-byte little-endian header length, compact JSON
header with __metadata__, header padded with spaces to a multiple of 8, tensors ordered by element
size (largest first) then name, each tensor's little-endian bytes at its data_offsets.

Run with /usr/bin/python3 (PyTorch 1.13): /usr/bin/python3 scripts/gen-safetensors-fixture.py
"""
import json
import struct
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "io"

DTYPES = {
    torch.float64: ("F64", 8),
    torch.float32: ("F32", 4),
    torch.float16: ("F16", 2),
    torch.bfloat16: ("BF16", 2),
    torch.int64: ("I64", 8),
    torch.int32: ("I32", 4),
    torch.int16: ("I16", 2),
    torch.int8: ("I8", 1),
    torch.uint8: ("U8", 1),
    torch.bool: ("BOOL", 1),
}


def raw_bytes(t: torch.Tensor) -> bytes:
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16; the bits are what we store
    return t.numpy().tobytes()


def main() -> None:
    g = torch.Generator().manual_seed(1234)
    tensors = {
        "f32.matrix": torch.randn(3, 4, generator=g),
        "f32.scalar": torch.tensor(-2.5),
        "f32.empty": torch.zeros(0, 3),
        "f64.vector": torch.randn(5, generator=g, dtype=torch.float64),
        "f16.vector": torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1e-5, 3e-7, float("inf"), float("-inf")], dtype=torch.float16),
        "bf16.vector": torch.tensor([0.0, 1.0, -3.140625, 1e30, -1e-30], dtype=torch.bfloat16),
        "i64.ids": torch.tensor([[0, 1, -1], [2147483647, -2147483648, 42]], dtype=torch.int64),
        "i32.ids": torch.arange(-3, 3, dtype=torch.int32).reshape(2, 3),
        "i16.vector": torch.tensor([-32768, 0, 32767], dtype=torch.int16),
        "i8.vector": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8.vector": torch.tensor([0, 128, 255], dtype=torch.uint8),
        "mask": torch.tensor([[True, False, True], [False, False, True]]),
    }
    metadata = {"format": "pt", "source": "gen-safetensors-fixture.py"}

    order = sorted(tensors, key=lambda k: (-DTYPES[tensors[k].dtype][1], k))
    header = {"__metadata__": metadata}
    data = b""
    for name in order:
        t = tensors[name]
        b = raw_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    (OUT / "torch-tensors.safetensors").write_bytes(struct.pack("<Q", len(hjson)) + hjson + data)

    def expected_values(t: torch.Tensor):
        if t.dtype in (torch.float16, torch.bfloat16):
            t = t.float()
        values = t.flatten().tolist()
        # JSON has no infinities; encode them as strings the test understands
        return [v if not isinstance(v, float) or abs(v) != float("inf") else ("Infinity" if v > 0 else "-Infinity") for v in values]

    expected = {
        "metadata": metadata,
        "tensors": {name: {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape), "values": expected_values(t)} for name, t in tensors.items()},
    }
    (OUT / "torch-tensors.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
