//! End-to-end tests: the real `kkr` binary on real workspaces, real PDFs read back with poppler.

mod example;
mod harness;

mod approval;
mod axe;
mod bilag;
mod bodies;
mod check;
mod corpus;
mod corrected;
mod deliver;
mod disk;
mod dkim;
mod held;
mod hostile;
mod init;
mod meeting_life;
mod minutes;
mod mistakes;
mod preview;
mod rehearsal;
mod render;
mod run;
mod site;
mod smtp;
mod status;
mod tls;
mod unread;
mod versions;
mod webdav;
