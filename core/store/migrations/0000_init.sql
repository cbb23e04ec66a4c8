CREATE TABLE `current` (
	`resource` text NOT NULL,
	`ns` text NOT NULL,
	`name` text NOT NULL,
	`rev` integer NOT NULL,
	PRIMARY KEY(`resource`, `ns`, `name`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `log` (
	`rev` integer PRIMARY KEY NOT NULL,
	`resource` text NOT NULL,
	`ns` text NOT NULL,
	`name` text NOT NULL,
	`op` integer NOT NULL,
	`prev_rev` integer NOT NULL,
	`sel` text NOT NULL,
	`data` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `log_resource_rev` ON `log` (`resource`,`rev`);--> statement-breakpoint
CREATE TABLE `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
