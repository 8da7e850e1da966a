#!/bin/sh
# Runs inside the container once per input file.
if [ -z "$INPUT_FILE_PATH" ]; then
  echo "$GREETING from scar: no input file (upload one to the input folder)"
  exit 0
fi
name=$(basename "$INPUT_FILE_PATH")
echo "$GREETING from scar: processing $name"
{
  echo "$GREETING, $(cat "$INPUT_FILE_PATH")!"
  echo "($(wc -c < "$INPUT_FILE_PATH") bytes processed)"
} > "$TMP_OUTPUT_DIR/$name.out"
