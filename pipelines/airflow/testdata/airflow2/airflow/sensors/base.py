from _airflow_fake import BaseSensorOperator, PokeReturnValue  # noqa: F401
