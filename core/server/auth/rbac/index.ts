/**
 * @module RBAC for the API server: the informer-backed authorizer, rule
 * matching, the authorizer chain, the bootstrap policy and its
 * reconciliation, the ClusterRole aggregation controller, and the
 * authorization.k8s.io reviews. See README.md.
 */
export { type BindingObject, CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, RbacAuthorizer, ROLE_BINDINGS, ROLES, type RoleObject, type RuleSource, type RuleVisitor } from "./authorizer.ts";
export { aggregatedRules, AGGREGATION_FIELD_MANAGER, ClusterRoleAggregator } from "./aggregation.ts";
export { AGGREGATE_TO, AUTO_UPDATE_ANNOTATION, BOOTSTRAP_LABEL, clusterRoleBindings, clusterRoles, nodeRules } from "./bootstrap-policy.ts";
export { breakdownRule, reconcileBinding, reconcileBootstrapPolicy, reconcileRole, type ReconcileSummary, ruleCovers, uncoveredRules } from "./reconcile.ts";
export { IN_PROCESS_ADMIN, type ReviewResource, reviewAttributes, reviewResources } from "./review.ts";
export { isRuleResolver, type NonResourceRuleInfo, type ResourceRuleInfo, type RuleResolver, type SubjectRules } from "./rule-resolver.ts";
export { type PolicyRule, ruleAllows, rulesAllow, type RoleRef, type Subject, subjectMatches } from "./rules.ts";
export { privilegedGroups, type ResolvingAuthorizer, skiffAuthorizer, union } from "./union.ts";
