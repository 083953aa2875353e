// The SCIMMY peer of pamscim's load generator (bench/load, issue 9): an
// in-memory SCIM 2.0 server built the way SCIMMY's documentation shows.
//
//   * scimmy-routers (express) serves every endpoint: discovery, /Users,
//     /Groups, /Bulk, /.search, with bearer-token authentication;
//   * SCIMMY itself parses and validates every resource, evaluates every
//     filter (resource.filter.match), applies every PATCH (its PatchOp
//     message), shapes every answer (attributes / excludedAttributes) and
//     pages every ListResponse;
//   * the storage behind its documented ingress/egress/degress handlers is
//     a plain Map per resource type. The only other structure is a Map of
//     folded userNames / displayNames, for the 409 a duplicate create must
//     get (RFC 7643 §2.1 uniqueness "server"): SCIMMY leaves uniqueness to
//     the handler. It is never used to answer a filter.
//
// Usage: SCIMMY_TOKEN=secret node server.mjs [--listen 127.0.0.1:0]
// Prints its SCIM base URL (http://127.0.0.1:PORT/scim/v2) on stdout once
// it is listening.
import {randomUUID, timingSafeEqual} from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const token = process.env.SCIMMY_TOKEN ?? "";
if (!token) {
    console.error("scimmy peer: set SCIMMY_TOKEN to the bearer token clients must send");
    process.exit(2);
}
const listenArg = process.argv.indexOf("--listen");
const [host, port] = (listenArg > 0 ? process.argv[listenArg + 1] : "127.0.0.1:0").split(":");

// declareStore wires a SCIMMY resource type to a Map.
function declareStore(Resource, uniqueAttr) {
    const rows = new Map();       // id -> stored resource (plain object)
    const unique = new Map();     // folded uniqueAttr -> id (409 on create/replace only)

    Resource.ingress((resource, instance) => {
        const now = new Date().toISOString();
        const key = String(instance[uniqueAttr] ?? "").toLowerCase();
        const holder = unique.get(key);
        if (holder !== undefined && holder !== resource.id) {
            throw new SCIMMY.Types.Error(409, "uniqueness", `${uniqueAttr} ${instance[uniqueAttr]} is already taken`);
        }
        let old;
        if (resource.id) {
            old = rows.get(resource.id);
            if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            unique.delete(String(old[uniqueAttr] ?? "").toLowerCase());
        }
        const id = resource.id ?? randomUUID();
        // The instance is SCIMMY's validated, coerced copy of the request.
        const row = {...JSON.parse(JSON.stringify(instance)), id,
            meta: {resourceType: Resource.schema.definition.name, created: old?.meta?.created ?? now, lastModified: now}};
        rows.set(id, row);
        unique.set(key, id);
        return row;
    });

    Resource.egress((resource) => {
        if (resource.id) {
            const row = rows.get(resource.id);
            if (!row) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            return row;
        }
        // SCIMMY evaluates the filter; it also sorts and pages the result.
        const all = [...rows.values()];
        return resource.filter ? resource.filter.match(all) : all;
    });

    Resource.degress((resource) => {
        const row = rows.get(resource.id);
        if (!row) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        rows.delete(resource.id);
        unique.delete(String(row[uniqueAttr] ?? "").toLowerCase());
    });
    return rows;
}

SCIMMY.Resources.declare(SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser));
SCIMMY.Resources.declare(SCIMMY.Resources.Group);
const users = declareStore(SCIMMY.Resources.User, "userName");
const groups = declareStore(SCIMMY.Resources.Group, "displayName");

const app = express();
app.disable("x-powered-by");
const want = Buffer.from(`Bearer ${token}`);
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    handler: (req) => {
        const got = Buffer.from(req.header("Authorization") ?? "");
        if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error("Authorization failed");
        return "load";
    },
}));
// scimmy-routers' own limit is bulk.maxPayloadSize (1 MB) for every body.
SCIMMY.Config.set({bulk: {supported: true, maxOperations: 1000, maxPayloadSize: 1048576}});

const server = app.listen(Number(port), host, () => {
    const a = server.address();
    console.log(`http://${a.address}:${a.port}/scim/v2`);
});
server.keepAliveTimeout = 120_000;
for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
        console.error(`scimmy peer: ${users.size} users, ${groups.size} groups; stopping`);
        process.exit(0);
    });
}
