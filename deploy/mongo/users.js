// MongoDB's first start (compose mounts this into /docker-entrypoint-initdb.d): one user per
// service, which may read and write its own database only (HUIYIN_DATABASE_PREFIX + service).
// The root user (MONGO_INITDB_ROOT_*) stays for administration; no service signs in as it.
// Runs only when the data volume is empty: for an existing volume, run it once by hand:
//   docker compose exec mongodb mongosh -u "$MONGO_ROOT_USERNAME" -p … /docker-entrypoint-initdb.d/users.js
const prefix = process.env.HUIYIN_DATABASE_PREFIX || "huiyin_";
const admin = db.getSiblingDB("admin");
for (const service of ["intake", "routing", "supervision", "reporting", "notify", "console"]) {
  const password = process.env[`MONGO_${service.toUpperCase()}_PASSWORD`];
  if (!password) throw new Error(`set MONGO_${service.toUpperCase()}_PASSWORD`);
  const roles = [{ role: "readWrite", db: `${prefix}${service}` }];
  if (admin.getUser(service)) {
    admin.updateUser(service, { pwd: password, roles });
  } else {
    admin.createUser({ user: service, pwd: password, roles });
  }
  print(`mongo: user ${service} may read and write ${prefix}${service}`);
}
