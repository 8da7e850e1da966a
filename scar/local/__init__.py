"""`scar run --local`: run a function on this machine with the same supervisor, without deploying."""
