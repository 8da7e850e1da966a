#!/bin/sh
# POST: answer the request body (the file at $INPUT_FILE_PATH) with every ASCII letter rotated by 13 places;
# every other byte, binary ones included, comes back unchanged.
# GET: a greeting; the query parameter ?name=NAME arrives as $CONT_VAR_name.
# ?fail=yes fails on purpose, to see how an error reaches the caller.
if [ "$CONT_VAR_fail" = "yes" ]; then
  echo "failing on purpose"
  exit 3
fi
if [ -n "$INPUT_FILE_PATH" ]; then
  exec tr 'A-Za-z' 'N-ZA-Mn-za-m' < "$INPUT_FILE_PATH"
fi
echo "Hello, ${CONT_VAR_name:-world}!"
