from _airflow_fake import Asset as Dataset  # noqa: F401
