#!/bin/sh
# On the OSCAR cluster, once per frame: blur the faces.
set -e
name=$(basename "$INPUT_FILE_PATH")
python3 /opt/blurry-faces/src/auto.py --input_image "$INPUT_FILE_PATH" --output_image "$TMP_OUTPUT_DIR/$name"
