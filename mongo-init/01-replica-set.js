// Runs in mongosh against a `mongod --replSet rs0`: initiates a one-member replica set unless
// one is initiated, then waits until this member is primary. Cumulus needs a replica set for
// transactions (a job is never half written) and change streams (wake-ups across servers).
// Usage: MONGO_HOST=mongo:27017 mongosh "mongodb://localhost:27017" mongo-init/01-replica-set.js
// MONGO_HOST is the address other containers and the Cumulus servers reach this member at.

try {
  const status = rs.status();
  print(`replica set ${status.set} already initiated`);
} catch {
  rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: process.env.MONGO_HOST ?? 'localhost:27017' }] });
  print('replica set rs0 initiated');
}

// The next script needs a primary to write to.
for (let waited = 0; !db.hello().isWritablePrimary; waited += 200) {
  if (waited > 60000) throw new Error('no primary after 60 s');
  sleep(200);
}
print('primary ready');
