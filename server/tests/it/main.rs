//! Integration tests of the node over real HTTP on 127.0.0.1, with temporary data directories.

mod api;
mod crash;
mod dao;
mod devnet;
mod e2e;
mod e2e_community;
mod governance;
mod journal;
mod limits;
mod market;
mod network;
mod proxy;
mod rejections;
mod sim;
mod support;
mod transfers;
