"""The contract inside an ONNX policy file: attach it at export, read it back before running the policy.

    attach_to_onnx("policy.onnx", contract)          # writes metadata_props in place (onnx package)
    contract = read_from_onnx("policy.onnx")         # or an onnxruntime.InferenceSession / onnx.ModelProto

A policy graph has one float32 input (..., obs_dim) and its first output is the action (..., n_joints);
both functions check those sizes against the contract where the graph fixes them. onnx and onnxruntime are
imported on first use, so importing physai.contract stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from physai.contract.contract import METADATA_PREFIX, PolicyContract
from physai.contract.errors import ContractError, ContractMismatch

if TYPE_CHECKING:
    import onnx
    import onnxruntime


def attach_to_onnx(
    path_or_model: str | Path | onnx.ModelProto, contract: PolicyContract, *, output: str | Path | None = None
) -> onnx.ModelProto:
    """Write `contract` into the model's metadata_props (replacing any physai.* keys, keeping the others).

    A ModelProto is changed in place; a path is loaded and saved back to `output` (default: the same path).
    Raises ContractMismatch when the graph's input/output sizes disagree with the contract. Returns the model.
    """
    import onnx

    model = path_or_model if isinstance(path_or_model, onnx.ModelProto) else _load(Path(path_or_model))
    check_onnx_io(model, contract)
    kept = [(p.key, p.value) for p in model.metadata_props if not p.key.startswith(METADATA_PREFIX)]
    del model.metadata_props[:]
    for key, value in [*kept, *contract.to_onnx_metadata().items()]:
        model.metadata_props.add(key=key, value=value)
    if not isinstance(path_or_model, onnx.ModelProto) or output is not None:
        target = Path(output if output is not None else path_or_model)
        onnx.save_model(model, str(target))
    return model


def read_from_onnx(
    source: str | Path | onnx.ModelProto | onnxruntime.InferenceSession, *, check_io: bool = True
) -> PolicyContract:
    """The contract of a policy file, ModelProto or onnxruntime session.

    Raises NoContractError ("… has no physai contract (key physai.contract); export it with physai export"),
    ContractError for a corrupted or invalid contract, and with `check_io` ContractMismatch when the graph's
    input/output sizes disagree with it.
    """
    import onnx

    if isinstance(source, onnx.ModelProto):
        model: Any = source
        where = f"ONNX model {source.graph.name or '<unnamed>'}"
        metadata = {p.key: p.value for p in source.metadata_props}
    elif hasattr(source, "get_modelmeta"):
        model, where = source, "the ONNX session's model"
        metadata = dict(source.get_modelmeta().custom_metadata_map)
    else:
        path = Path(source)
        model, where = _load(path), str(path)
        metadata = {p.key: p.value for p in model.metadata_props}
    contract = PolicyContract.from_onnx_metadata(metadata, source=where)
    if check_io:
        check_onnx_io(model, contract, source=where)
    return contract


def check_onnx_io(
    model: onnx.ModelProto | onnxruntime.InferenceSession, contract: PolicyContract, *, source: str = "policy graph"
) -> None:
    """Refuse (ContractMismatch) a graph that does not fit the contract's sizes.

    The graph must have one float32 input (..., obs_dim) and a float32 first output (..., action_dim);
    symbolic (dynamic) dimensions are accepted.
    """
    inputs, outputs = _io(model)
    if len(inputs) != 1:
        names = ", ".join(name for name, _, _ in inputs) or "none"
        raise ContractMismatch(
            "inputs", f"{source}: a policy graph has exactly one input (the observation); found {names}"
        )
    if not outputs:
        raise ContractMismatch("outputs", f"{source}: the policy graph has no output")
    for (name, shape, dtype), want, what in (
        (inputs[0], contract.obs_dim, "obs_dim"),
        (outputs[0], contract.action_dim, "action_dim"),
    ):
        if dtype != "float32":
            raise ContractMismatch(what, f"{source}: graph tensor {name!r} is {dtype}; expected float32")
        last = shape[-1] if shape else None
        if isinstance(last, int) and last != want:
            raise ContractMismatch(
                what,
                f"{source}: graph tensor {name!r} has shape {list(shape)}; the contract's {what} is {want}",
            )


def _load(path: Path) -> onnx.ModelProto:
    import onnx
    from google.protobuf.message import DecodeError

    if not path.is_file():
        raise FileNotFoundError(f"policy file {path} does not exist")
    try:
        return onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, OSError) as err:
        raise ContractError(f"{path} is not a readable ONNX model ({err})") from None


def _io(model: Any) -> tuple[list[tuple[str, list, str]], list[tuple[str, list, str]]]:
    """(name, shape with ints or None/str for dynamic dims, dtype) of the graph inputs and outputs."""
    if hasattr(model, "get_inputs"):  # onnxruntime session
        dtype = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16"}

        def from_session(args: list) -> list[tuple[str, list, str]]:
            return [(a.name, list(a.shape or []), dtype.get(a.type, a.type)) for a in args]

        return from_session(model.get_inputs()), from_session(model.get_outputs())
    import onnx

    initializers = {init.name for init in model.graph.initializer}

    def from_proto(values: Any) -> list[tuple[str, list, str]]:
        out = []
        for v in values:
            if v.name in initializers:
                continue  # old exporters list weights as inputs
            t = v.type.tensor_type
            shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim]
            dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name if t.elem_type else "undefined"
            out.append((v.name, shape, dtype))
        return out

    return from_proto(model.graph.input), from_proto(model.graph.output)
