"""Reading plotly charts back out of an AppTest run: the spec a chart was drawn with, and its arrays."""

import base64
import json

import numpy as np


def chart(app, key: str) -> dict:
    """The plotly spec of the chart drawn with `key`."""
    found = [element for element in app.get("plotly_chart") if element.proto.id.endswith(f"-{key}")]
    assert found, f"no chart {key}"
    return json.loads(found[0].proto.spec)


def numbers(values) -> np.ndarray:
    """Plotly's typed-array JSON ({'dtype', 'bdata', 'shape'}) or a plain list, as numpy."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        shape = [int(n) for n in str(values.get("shape", flat.size)).split(",")]
        return flat.reshape(shape)
    return np.asarray(values, dtype=float)
