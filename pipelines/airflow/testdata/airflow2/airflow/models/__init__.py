"""Stand-in for airflow.models (Airflow 2.x): see _airflow_fake."""
from _airflow_fake import BaseOperator, variable_get  # noqa: F401


class Variable:
    @staticmethod
    def get(key, default_var=None, deserialize_json=False):
        return variable_get(key, default_var)
