from _airflow_fake import dag, task, task_group  # noqa: F401
