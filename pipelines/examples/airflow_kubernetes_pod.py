"""Example: dpcetl in Kubernetes from Airflow, one pod per DPC group (KubernetesPodOperator).

The image is the project's Dockerfile (static binary on scratch, user 65532). Each pod runs a
self-contained `dpcetl run --groups X`; its root filesystem is read-only and /work (state) and
/tmp are emptyDir volumes: nothing is kept on the node, the watermark lives in the S3
destination. Credentials come from Kubernetes Secrets as environment variables, never from
the DAG. The pod's logs (dpcetl's JSON lines) stream into the task log (get_logs).

Unlike dpcetl_operator.DpcetlOperator, a pod operator retries every failure the same way: it
cannot tell exit 10 (retry) from 4 (fix the credentials). Keep retries low, or use the
DpcetlOperator on workers that have the binary. Needs apache-airflow-providers-cncf-kubernetes.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

try:  # Airflow 3.x
    from airflow.sdk import Asset, Variable, dag, task
except ImportError:  # Airflow 2.7 - 2.11
    from airflow.datasets import Dataset as Asset
    from airflow.decorators import dag, task
    from airflow.models import Variable

IMAGE = "registry.example.com/dpcetl:1.0.0"
DESTINATION = "s3://claims-lake/dpc?region=us-east-1"
TABLES = ("patient", "coverage", "coverage_month", "eob", "eob_line", "eob_diagnosis", "eob_procedure",
          "eob_care_team", "eob_amount", "eob_line_amount", "export_error")

scratch = [
    k8s.V1Volume(name="work", empty_dir=k8s.V1EmptyDirVolumeSource()),
    k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource()),
]
mounts = [k8s.V1VolumeMount(name="work", mount_path="/work"), k8s.V1VolumeMount(name="tmp", mount_path="/tmp")]


@dag(dag_id="dpcetl_k8s", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1,
     default_args={"retries": 3, "retry_delay": timedelta(minutes=10)}, tags=["dpc", "claims", "kubernetes"])
def dpcetl_k8s():
    @task
    def group_arguments() -> list[list[str]]:
        groups = json.loads(Variable.get("dpcetl_groups"))
        return [["run", "--groups", g, "--state-dir", "/work/state", "--log-format", "json"] for g in groups]

    KubernetesPodOperator.partial(
        task_id="run",
        name="dpcetl",
        namespace="data",
        image=IMAGE,
        env_vars={
            "DPCETL_API": "production",
            "DPCETL_DESTINATION": DESTINATION,
            "DPCETL_SINCE": "incremental",
            "DPCETL_TIMEOUT": "6h",
        },
        # DPC_CLIENT_TOKEN, DPC_PRIVATE_KEY, DPC_KEY_ID (read through client_token_env & co. in
        # the config, or set DPCETL_CLIENT_TOKEN_FILE etc. with a mounted secret volume) and the
        # AWS credentials (or use IRSA / a pod identity and leave them out).
        env_from=[k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name="dpcetl-credentials"))],
        volumes=scratch,
        volume_mounts=mounts,
        security_context=k8s.V1PodSecurityContext(run_as_non_root=True, run_as_user=65532, run_as_group=65532,
                                                  fs_group=65532),
        container_security_context=k8s.V1SecurityContext(read_only_root_filesystem=True,
                                                         allow_privilege_escalation=False,
                                                         capabilities=k8s.V1Capabilities(drop=["ALL"])),
        container_resources=k8s.V1ResourceRequirements(requests={"cpu": "1", "memory": "2Gi"},
                                                       limits={"memory": "4Gi"}),
        get_logs=True,
        on_finish_action="delete_pod",
        pool="dpc_api",
        execution_timeout=timedelta(hours=6),
        outlets=[Asset(DESTINATION.split("?")[0] + "/" + t) for t in TABLES],
    ).expand(arguments=group_arguments())


dpcetl_k8s()
