//! The built-in demo target: an imitation of the Kibray API on 127.0.0.1.
