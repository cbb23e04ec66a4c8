"""python3-kubernetes (the Debian package) against a Skiff server: CRUD and watch.

Usage: python3 crud_watch.py KUBECONFIG. Prints one JSON line with what it saw.
"""
import json
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
apps = client.AppsV1Api()
out = {}

cm = v1.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py1", labels={"py": "yes"}), data={"a": "1"}))
out["created_rv"] = cm.metadata.resource_version
got = v1.read_namespaced_config_map("py1", "default")
out["read_data"] = dict(got.data)
got.data["a"] = "2"
replaced = v1.replace_namespaced_config_map("py1", "default", got)
out["replaced_data"] = replaced.data
try:
    v1.replace_namespaced_config_map("py1", "default", got)
    out["stale"] = "accepted"
except ApiException as e:
    out["stale"] = [e.status, json.loads(e.body)["reason"]]
patched = v1.patch_namespaced_config_map("py1", "default", {"metadata": {"labels": {"patched": "1"}}})
out["patched_labels"] = patched.metadata.labels
out["list"] = [i.metadata.name for i in v1.list_namespaced_config_map("default", label_selector="py=yes").items]

dep = apps.create_namespaced_deployment("default", {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "pyweb"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "pyweb"}},
             "template": {"metadata": {"labels": {"app": "pyweb"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
})
out["deployment_strategy"] = dep.spec.strategy.type

pod = v1.create_namespaced_pod("default", {"metadata": {"name": "pypod"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
out["pod_phase"] = pod.status.phase
out["pods"] = [p.metadata.name for p in v1.list_namespaced_pod("default").items]

events = []
start_rv = v1.list_namespaced_config_map("default").metadata.resource_version


def changes():
    time.sleep(0.3)
    v1.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py2")))
    v1.patch_namespaced_config_map("py2", "default", {"data": {"x": "y"}})
    v1.delete_namespaced_config_map("py2", "default")


threading.Thread(target=changes).start()
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_config_map, "default", resource_version=start_rv, timeout_seconds=10):
    events.append([ev["type"], ev["object"].metadata.name])
    if ev["type"] == "DELETED":
        w.stop()
out["events"] = events

v1.delete_namespaced_config_map("py1", "default")
try:
    v1.read_namespaced_config_map("py1", "default")
    out["after_delete"] = "still there"
except ApiException as e:
    out["after_delete"] = e.status
print(json.dumps(out))
