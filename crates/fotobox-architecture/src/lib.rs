//! Architecture rules of the Fotobox workspace; the checks live in `tests/architecture/`.
