"""The scripts the Azure ML pipeline's PythonScriptSteps run (this folder is their source directory).

They run on the compute cluster with azureml-core only: no amlpipe there.
"""
