"""A minimal stand-in for the few Airflow APIs the dpcetl DAGs use, for tests only.

Airflow cannot be installed here. testdata/airflow2 and testdata/airflow3 lay these classes out
under the module paths of Airflow 2.7+ and 3.x, so importing the DAG files exercises both
import paths. What this does NOT do: schedule, render Jinja templates, resolve XComArgs, run
mapped tasks, enforce pools or timeouts, or serialize the DAG. Operators refuse unknown
arguments as the real BaseOperator does, so a misspelt argument fails here too.
"""

import logging
import os

RECORDED = {"dags": [], "mapped": [], "operators": [], "task_groups": []}

_OPERATOR_ARGS = {"task_id", "pool", "pool_slots", "execution_timeout", "outlets", "retries", "retry_delay",
                  "retry_exponential_backoff", "do_xcom_push", "max_active_tis_per_dag"}
_SENSOR_ARGS = {"mode", "poke_interval", "timeout", "soft_fail", "exponential_backoff"}


class AirflowException(Exception):
    pass


class AirflowFailException(AirflowException):
    pass


class XComArg:
    def __init__(self, producer):
        self.producer = producer

    def __rshift__(self, other):
        return other


class BaseOperator:
    _allowed = _OPERATOR_ARGS

    def __init__(self, **kwargs):
        unknown = set(kwargs) - self._allowed
        if unknown:
            raise TypeError(f"{type(self).__name__}: invalid arguments {sorted(unknown)}")
        if "task_id" not in kwargs:
            raise TypeError("task_id is required")
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.log = logging.getLogger("airflow.task." + kwargs["task_id"])
        RECORDED["operators"].append(self)

    @property
    def output(self):
        return XComArg(self)

    def __rshift__(self, other):
        return other

    @classmethod
    def partial(cls, **kwargs):
        return _Partial(cls, kwargs)


class _Partial:
    def __init__(self, cls, kwargs):
        self.cls, self.kwargs = cls, kwargs

    def expand(self, **mapped):
        RECORDED["mapped"].append({"operator": self.cls, "partial": self.kwargs, "expand": mapped})
        return XComArg(self)


class BaseSensorOperator(BaseOperator):
    _allowed = _OPERATOR_ARGS | _SENSOR_ARGS


class PokeReturnValue:
    def __init__(self, is_done, xcom_value=None):
        self.is_done, self.xcom_value = is_done, xcom_value


class Asset:
    def __init__(self, uri):
        if not isinstance(uri, str) or "://" not in uri:
            raise ValueError(f"asset URI {uri!r} needs a scheme")
        self.uri = uri


def variable_get(key, default):
    return os.environ.get("AIRFLOW_VAR_" + key.upper(), default)


def dag(**dag_kwargs):
    def deco(fn):
        def build(*args, **kwargs):
            RECORDED["dags"].append(dag_kwargs)
            fn(*args, **kwargs)
            return dag_kwargs
        return build
    return deco


def task(fn=None, **_):
    def deco(f):
        def call(*args, **kwargs):
            return XComArg(f)
        call.function = f
        return call
    return deco(fn) if fn is not None else deco


def task_group(group_id=None, **_):
    def deco(f):
        class TaskGroup:
            def expand(self, **mapped):
                RECORDED["task_groups"].append({"group_id": group_id, "expand": mapped})
                f(**{k: "{{ mapped }}" for k in mapped})
        return TaskGroup()
    return deco
