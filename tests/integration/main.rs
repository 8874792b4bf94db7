//! Spinel's integration tests: real sockets against a server started in-process on an
//! ephemeral port (no sleeps: a test waits for replies, with a timeout as the failure).
//! One binary, a module per area; regression tests are named after what they guard.

mod harness;
mod http;
mod proc;

mod acl;
mod bitmap;
mod cluster;
mod connection;
mod crash;
mod disk_full;
mod eviction;
mod geo;
mod hash;
mod hll;
mod introspection;
mod keyspace;
mod list;
mod persistence;
mod protocol;
mod pubsub;
mod replication;
mod rest;
mod rest_proxy;
mod rest_wire;
mod scripting;
mod set;
mod sort;
mod stream;
mod strings;
mod zset;
