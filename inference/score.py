"""Entry script for the scoring endpoint: the same file on Azure Container Instances and locally.

`init()` loads the registered model from `AZUREML_MODEL_DIR` (the model folder itself, or
`<model_name>/<version>/` below it as Azure mounts it): its ONNX export through ONNX Runtime
when the local backend wrote one (metadata.json names it), else the pickled pipeline itself
(a model that does not convert, or a host without onnxruntime). `run()` takes the raw HTTP request
(``@rawhttp``), checks it with `amlpipe.contract` and answers with the server's own
response type, so bad input gets a 4xx naming the row and the field, never a 500.

The body is read with a size limit (`contract.max_body_bytes`): a larger ``Content-Length``
is refused before anything is read, a chunked body as soon as it grows past the limit.

Optional environment:
    AMLPIPE_MAX_ROWS: the largest batch accepted (default 10,000).
    AMLPIPE_KEYS_FILE: a JSON file with primary and secondary keys; when set, requests need
        ``Authorization: Bearer <key>`` (the local stand-in for ACI's ``auth_enabled``).
"""

import hmac
import json
import logging
import os
from pathlib import Path

# The model's OpenMP libraries (LightGBM, XGBoost, scikit-learn) keep their threads spinning
# after each parallel step by default, taking the CPUs the next ensemble member needs: a
# 10,000-row batch took 230 ms that way, 190 ms with passive waiting. Read when the first of
# them loads, which is when init() unpickles the model.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import joblib
from azureml_inference_server_http.api.aml_request import rawhttp
from azureml_inference_server_http.api.aml_response import AMLResponse
from werkzeug.exceptions import HTTPException

try:
    from amlpipe import contract, serving
except ImportError:  # on ACI, where amlpipe is not installed, both modules are deployed beside this script
    import contract
    import serving

logger = logging.getLogger("amlpipe.score")
MODEL_FILE = "model.pkl"
READ_SIZE = 1 << 16

predictor = None
labels = None  # how each class is written in answers
schema = None
keys = ()
max_rows = contract.DEFAULT_MAX_ROWS


def find_model_dir(root):
    """The folder holding model.pkl: ``root`` itself or the shallowest folder below it."""
    root = Path(root)
    if (root / MODEL_FILE).is_file():
        return root
    found = sorted(root.rglob(MODEL_FILE), key=lambda p: len(p.parts))
    if not found:
        raise FileNotFoundError(f"no {MODEL_FILE} under AZUREML_MODEL_DIR={root}")
    return found[0].parent


def init():
    """Load the model, its input schema and, when keys are enabled, the keys."""
    global predictor, labels, schema, keys, max_rows
    folder = find_model_dir(os.environ["AZUREML_MODEL_DIR"])
    # The model's metadata, else the one deployed beside this script (the azureml-v2 backend writes it
    # from the MLflow model's signature); without either, any numeric fields are accepted.
    metadata_file = next((f for f in (folder / "metadata.json", Path(__file__).with_name("metadata.json")) if f.is_file()), None)
    metadata = json.loads(metadata_file.read_text()) if metadata_file else {}
    schema = metadata.get("input_schema")
    predictor = None
    if schema and metadata.get("onnx_file"):  # the local backend's ONNX export, checked against model.pkl
        try:
            predictor = serving.OnnxPredictor(folder / metadata["onnx_file"], schema, metadata.get("classes"))
        except ImportError:
            logger.warning("onnxruntime is not installed: serving %s instead of %s", MODEL_FILE, metadata["onnx_file"])
    if predictor is None:
        predictor = serving.Predictor(joblib.load(folder / MODEL_FILE))
    labels = contract.label_values(predictor.classes)
    max_rows = int(os.environ.get("AMLPIPE_MAX_ROWS", contract.DEFAULT_MAX_ROWS))
    keys_file = os.environ.get("AMLPIPE_KEYS_FILE")
    if keys_file:
        stored = json.loads(Path(keys_file).read_text())
        keys = tuple(k.encode() for k in (stored["primary_key"], stored["secondary_key"]))
    logger.info(
        "model loaded from %s (%s fields, %s, auth %s)",
        folder, len(schema or ()), serving.describe(predictor), "on" if keys else "off",
    )


def _error(status, message, row=None, field=None):
    return AMLResponse(contract.RequestError(message, status, row, field).to_body(), status, json_str=True)


def _authorized(header):
    if not keys:
        return True
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return any(hmac.compare_digest(token.strip().encode(), key) for key in keys)


def read_body(request, limit):
    """The request body, at most ``limit`` bytes.

    Raises:
        contract.RequestError: 413 for a larger body, 408 for a body that stops arriving,
            400 for one that cannot be read (a broken chunked encoding, a client gone).
    """
    length = request.content_length
    if length is not None and length > limit:
        raise contract.RequestError(f"the body has {length} bytes; at most {limit} are accepted", status=413)
    chunks, size = [], 0
    while True:
        try:
            chunk = request.stream.read(READ_SIZE)
        except TimeoutError:
            raise contract.RequestError("the body stopped arriving before it was complete", status=408) from None
        except (OSError, ValueError, HTTPException) as exc:  # gunicorn's chunk errors are OSErrors
            raise contract.RequestError(f"the body could not be read ({type(exc).__name__})") from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise contract.RequestError(f"the body is larger than {limit} bytes, the most accepted", status=413)
        chunks.append(chunk)


def predict(parsed):
    """Predictions for a checked request, as the JSON answer."""
    if predictor.classes is None:  # regression
        chosen = None
        answer = {"result": [float(v) for v in predictor.predict(parsed.columns)]}
    else:
        chosen, proba = predictor.classify(parsed.columns)
        answer = {"result": [labels[i] for i in chosen]}
        if parsed.method == "predict_proba":
            answer["classes"] = labels
            answer["probabilities"] = proba.round(6).tolist()
    if parsed.method == "explain":
        answer["explanations"] = serving.explanations(predictor, parsed.columns, chosen=chosen)
    return answer


@rawhttp
def run(request):
    """Score a request: ``{"data": [record, ...], "method": "predict" | "predict_proba" | "explain"}``."""
    if request.method != "POST":
        return _error(405, "use POST with a JSON body")
    if not _authorized(request.headers.get("Authorization")):
        return _error(401, "missing or wrong key: send 'Authorization: Bearer <key>'")
    try:
        body = read_body(request, contract.max_body_bytes(max_rows))
        payload = contract.parse_body(body, request.headers.get("Content-Type"))
        parsed = contract.check_request(payload, schema, max_rows)
    except contract.RequestError as exc:
        return AMLResponse(exc.to_body(), exc.status, json_str=True)
    return AMLResponse(predict(parsed), 200, json_str=True)
