"""ONNX export: `ag.onnx.export(model, example_inputs, "model.onnx")` writes a trained model for
onnxruntime, Netron (https://netron.app) and the other tools that read ONNX.

    import autograd as ag
    ag.onnx.export(model, x[:2], "model.onnx")       # x: an example batch; any batch size runs after
    session = onnxruntime.InferenceSession("model.onnx")
    logits = session.run(None, {"input": x})[0]

`export` needs the onnx package (`pip install -e ".[onnx]"`, which also brings onnxruntime), imported
only when a model is exported. Files: trace.py runs the model once and records every op application,
builder.py names values and collects nodes, convert.py and shape.py write each op as ONNX nodes,
export.py puts it together.
"""

from autograd.onnx.builder import UnsupportedOpError
from autograd.onnx.export import CONVERTERS, export, supported_ops

__all__ = ["CONVERTERS", "UnsupportedOpError", "export", "supported_ops"]
