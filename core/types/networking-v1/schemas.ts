/**
 * @module Schemas of networking.k8s.io/v1 Ingress, IngressClass and
 * NetworkPolicy (k8s.io/api networking/v1 types.go, v1.32).
 */
import { LABEL_SELECTOR, OBJECT_META } from "../meta-schemas.ts";
import { atomic, int32, intOrString, kindSchema, obj, ref, str } from "../schema-dsl.ts";
import { TYPED_LOCAL_OBJECT_REFERENCE } from "../core-v1/volume-schema.ts";

const NET = "io.k8s.api.networking.v1";

function gvk(kind: string) {
  return { group: "networking.k8s.io", version: "v1", kind };
}

const INGRESS_BACKEND = obj(`${NET}.IngressBackend`, {
  resource: ref(TYPED_LOCAL_OBJECT_REFERENCE),
  service: obj(
    `${NET}.IngressServiceBackend`,
    { name: str(), port: obj(`${NET}.ServiceBackendPort`, { name: str(), number: int32() }, { mapType: "atomic" }) },
    { required: ["name"] },
  ),
});

const HTTP_INGRESS_PATH = obj(
  `${NET}.HTTPIngressPath`,
  { backend: ref(INGRESS_BACKEND), path: str(), pathType: str() },
  { required: ["pathType", "backend"] },
);

const INGRESS_RULE = obj(`${NET}.IngressRule`, {
  host: str(),
  http: obj(`${NET}.HTTPIngressRuleValue`, { paths: atomic(HTTP_INGRESS_PATH) }, { required: ["paths"] }),
});

const INGRESS_PORT_STATUS = obj(`${NET}.IngressPortStatus`, { error: str(), port: int32(), protocol: str() }, { required: ["port", "protocol"] });

export const INGRESS_SCHEMA = kindSchema(`${NET}.Ingress`, gvk("Ingress"), ref(OBJECT_META), {
  spec: obj(`${NET}.IngressSpec`, {
    defaultBackend: ref(INGRESS_BACKEND),
    ingressClassName: str(),
    rules: atomic(INGRESS_RULE),
    tls: atomic(obj(`${NET}.IngressTLS`, { hosts: atomic(str()), secretName: str() })),
  }),
  status: obj(`${NET}.IngressStatus`, {
    loadBalancer: obj(`${NET}.IngressLoadBalancerStatus`, {
      ingress: atomic(obj(`${NET}.IngressLoadBalancerIngress`, { hostname: str(), ip: str(), ports: atomic(INGRESS_PORT_STATUS) })),
    }),
  }),
});

export const INGRESS_CLASS_SCHEMA = kindSchema(`${NET}.IngressClass`, gvk("IngressClass"), ref(OBJECT_META), {
  spec: obj(`${NET}.IngressClassSpec`, {
    controller: str(),
    parameters: obj(
      `${NET}.IngressClassParametersReference`,
      { apiGroup: str(), kind: str(), name: str(), namespace: str(), scope: str() },
      { required: ["kind", "name"] },
    ),
  }),
});

const NETWORK_POLICY_PORT = obj(`${NET}.NetworkPolicyPort`, { endPort: int32(), port: intOrString(), protocol: str() });
const NETWORK_POLICY_PEER = obj(`${NET}.NetworkPolicyPeer`, {
  ipBlock: obj(`${NET}.IPBlock`, { cidr: str(), except: atomic(str()) }, { required: ["cidr"] }),
  namespaceSelector: ref(LABEL_SELECTOR),
  podSelector: ref(LABEL_SELECTOR),
});

export const NETWORK_POLICY_SCHEMA = kindSchema(`${NET}.NetworkPolicy`, gvk("NetworkPolicy"), ref(OBJECT_META), {
  spec: obj(`${NET}.NetworkPolicySpec`, {
    egress: atomic(obj(`${NET}.NetworkPolicyEgressRule`, { ports: atomic(NETWORK_POLICY_PORT), to: atomic(NETWORK_POLICY_PEER) })),
    ingress: atomic(obj(`${NET}.NetworkPolicyIngressRule`, { from: atomic(NETWORK_POLICY_PEER), ports: atomic(NETWORK_POLICY_PORT) })),
    podSelector: ref(LABEL_SELECTOR),
    policyTypes: atomic(str()),
  }),
});
