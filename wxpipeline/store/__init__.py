"""The findings store's SQL, all of it: `findings` (a day's findings and what changed), `triage`
(which findings fail their check), `cases` (case status and waivers), `quarantine` (rejected
records), on the tables of `tables` through the engine of `engine`. No Dagster here: every
function takes `db`, the `Warehouse` resource or a plain `Database(url)`."""
