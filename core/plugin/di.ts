/**
 * @module The one place tsyringe is imported at run time. tsyringe needs the
 * Reflect metadata polyfill loaded first (ES modules evaluate imports in
 * order, so it comes first here); everything else imports the container from
 * this module, and only types from "tsyringe".
 */
import "reflect-metadata";
export { container as rootContainer } from "tsyringe";
export type { DependencyContainer, InjectionToken } from "tsyringe";
