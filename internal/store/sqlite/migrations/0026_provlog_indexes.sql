-- The provisioning log keeps one index besides its key: appending is on
-- every SCIM request's account, and each index is a B-tree write per entry
-- (the resource id one at a random place: ids are UUIDs). Searches by time
-- or resource id walk the tenant's entries newest first instead
-- (bench/RESULTS.md, "Provisioning log overhead").
DROP INDEX provlog_tenant_at;
DROP INDEX provlog_tenant_rid;
