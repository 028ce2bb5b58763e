from _airflow_fake import BaseOperator  # noqa: F401
