"""Export a trained run to a file another program runs without PyTorch: ONNX, checked against onnxruntime.

Each learner that can be exported has a small `export_module()` hook returning an `Exportable`: a torch module
(the greedy policy from observation to action with the saved observation normalization folded in, recurrent
state as explicit inputs and outputs; or a generator from latent to image), its input and output names, and a
sampler of example inputs. This module (engine layer: the learners import it) writes the file and checks
onnxruntime's outputs against PyTorch's; gymforge.app.api.export_run loads a run and drives it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gymforge.engine.errors import ConfigError

FORMATS = {"onnx": ".onnx"}
"""Export formats by name, with the file suffix that selects each."""
OPSET = 17
TOLERANCE = 1e-5
"""onnxruntime and PyTorch must agree to this (absolute, or relative for large values) on every float output."""


@dataclass
class Exportable:
    """What a learner's export_module() hook hands over."""

    module: nn.Module
    """forward(*inputs, in input_names order) -> a tuple of outputs in output_names order."""
    input_names: list[str]
    output_names: list[str]
    sample_inputs: Callable[[int, int], dict[str, np.ndarray]]
    """(n, seed) -> a batch of n example inputs per name (the same seed gives the same inputs)."""
    batch_axes: dict[str, int] = field(default_factory=dict)
    """Which axis is the batch, per input and output name: 0 unless given (recurrent states: 1)."""
    description: str = ""
    """One line for the user: what goes in and what comes out."""


class ExportCheckError(Exception):
    """onnxruntime's outputs differ from PyTorch's: the exported file is not trustworthy."""


def export_format(out: Path, format_name: str | None) -> str:
    """The format named by --format, or by the file's suffix; anything else is refused in one line."""
    name = (format_name or out.suffix.lstrip(".")).lower()
    if name not in FORMATS:
        given = f"--format {format_name}" if format_name else f"the suffix of {out}"
        raise ConfigError(f"unknown export format {name or '(none)'!r} ({given}); gymforge exports: "
                          f"{', '.join(FORMATS)} (e.g. --onnx policy.onnx)")
    return name


def require_export_extra() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ConfigError("export needs the export extra (onnx, onnxruntime): pip install 'gymforge[export]'") from None


def exportable_of(learner: Any, algo: str) -> Exportable:
    hook = getattr(learner, "export_module", None)
    if hook is None:
        raise ConfigError(f"{algo} runs cannot be exported (it has no network to export)")
    return hook()


def write_onnx(exportable: Exportable, path: Path, opset: int = OPSET) -> None:
    """Trace the module into an ONNX file with a dynamic batch axis on every input and output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    exportable.module.eval()  # batch norm with its running statistics, as sampling uses it
    examples = exportable.sample_inputs(2, 0)
    inputs = tuple(torch.from_numpy(examples[name]) for name in exportable.input_names)
    axes = {name: {exportable.batch_axes.get(name, 0): "batch"}
            for name in exportable.input_names + exportable.output_names}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes on Python branches over shapes; the check below decides
        torch.onnx.export(exportable.module, inputs, str(path), dynamo=False, opset_version=opset,
                          input_names=exportable.input_names, output_names=exportable.output_names,
                          dynamic_axes=axes)


def check_onnx(exportable: Exportable, path: Path, n: int = 100, seed: int = 1) -> dict[str, float]:
    """Run n sample inputs through onnxruntime and PyTorch; returns each output's largest absolute difference.
    Raises ExportCheckError if a float output differs by more than TOLERANCE or an integer output at all."""
    import onnx
    import onnxruntime

    onnx.checker.check_model(str(path))
    exportable.module.eval()
    inputs = exportable.sample_inputs(n, seed)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(exportable.output_names, {name: inputs[name] for name in exportable.input_names})
    with torch.no_grad():
        expected = exportable.module(*(torch.from_numpy(inputs[name]) for name in exportable.input_names))
    expected = expected if isinstance(expected, (tuple, list)) else (expected,)
    differences = {}
    for name, onnx_out, torch_out in zip(exportable.output_names, got, expected):
        torch_out = torch_out.numpy()
        if onnx_out.shape != torch_out.shape:
            raise ExportCheckError(f"output {name}: onnxruntime gives shape {onnx_out.shape}, PyTorch {torch_out.shape}")
        difference = float(np.abs(onnx_out.astype(np.float64) - torch_out.astype(np.float64)).max(initial=0.0))
        differences[name] = difference
        if np.issubdtype(torch_out.dtype, np.floating):
            bad = np.abs(onnx_out - torch_out) > TOLERANCE * np.maximum(1.0, np.abs(torch_out))
        else:
            bad = onnx_out != torch_out
        if bad.any():
            raise ExportCheckError(f"onnxruntime and PyTorch disagree on output {name} for {int(bad.sum())} values "
                                   f"of {n} inputs (largest difference {difference:.3g}); the file is not usable")
    return differences


