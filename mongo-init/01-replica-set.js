// Runs once in mongosh against a fresh `mongod --replSet rs0`: Cumulus needs a replica set
// for transactions (atomic multi-job operations) and change streams (wake-ups across servers).
// Usage: mongosh "mongodb://localhost:27017" mongo-init/01-replica-set.js

try {
  const status = rs.status();
  print(`replica set ${status.set} already initiated`);
} catch {
  rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: process.env.MONGO_HOST ?? 'localhost:27017' }] });
  print('replica set rs0 initiated');
}
