from _airflow_fake import AirflowException, AirflowFailException  # noqa: F401
