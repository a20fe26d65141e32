// Intentionally empty: CEpoll only exposes system headers (include/CEpoll.h) to Swift.
