"""Stand-in for airflow.sdk (Airflow 3.x): see _airflow_fake."""
from _airflow_fake import (Asset, BaseOperator, BaseSensorOperator, PokeReturnValue, dag, task,  # noqa: F401
                           task_group, variable_get)


class Variable:
    @staticmethod
    def get(key, default=None):
        return variable_get(key, default)
