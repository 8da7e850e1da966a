#!/bin/sh
# On AWS Lambda, once per anonymised frame: find the faces with and without a mask.
set -e
name=$(basename "$INPUT_FILE_PATH")
python3 /opt/mask-detector/detect.py --image "$INPUT_FILE_PATH" --output "$TMP_OUTPUT_DIR/$name.json"
cat "$TMP_OUTPUT_DIR/$name.json"
