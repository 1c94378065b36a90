"""A scoring script in the shape Azure AutoML (SDK v1) generates, for the endpoint benchmark only.

inference_schema decorators with a pandas sample; the answer is a JSON string inside the
JSON response, and errors come back as 200 {"error": ...} or 500, as in the generated file.
"""

import json
import os

import joblib
import numpy as np
import pandas as pd
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

input_sample = pd.DataFrame({
    "age": pd.Series([0.0], dtype="float64"),
    "anaemia": pd.Series([0], dtype="int64"),
    "creatinine_phosphokinase": pd.Series([0], dtype="int64"),
    "diabetes": pd.Series([0], dtype="int64"),
    "ejection_fraction": pd.Series([0], dtype="int64"),
    "high_blood_pressure": pd.Series([0], dtype="int64"),
    "platelets": pd.Series([0.0], dtype="float64"),
    "serum_creatinine": pd.Series([0.0], dtype="float64"),
    "serum_sodium": pd.Series([0], dtype="int64"),
    "sex": pd.Series([0], dtype="int64"),
    "smoking": pd.Series([0], dtype="int64"),
    "time": pd.Series([0], dtype="int64"),
})
output_sample = np.array([False])
method_sample = StandardPythonParameterType("predict")

model = None


def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))


@input_schema("method", method_sample, convert_to_provided_type=False)
@input_schema("data", PandasParameterType(input_sample))
@output_schema(NumpyParameterType(output_sample))
def run(data, method="predict"):
    try:
        if method == "predict_proba":
            result = model.predict_proba(data)
        elif method == "predict":
            result = model.predict(data)
        else:
            raise Exception(f"Invalid predict method argument received ({method})")
        if isinstance(result, pd.DataFrame):
            result = result.values
        return json.dumps({"result": result.tolist()})
    except Exception as e:
        return json.dumps({"error": str(e)})
