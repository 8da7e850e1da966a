#!/bin/sh
# Runs once per image (an S3 upload, or the body of an HTTP request).
set -e
name=$(basename "$INPUT_FILE_PATH")
cd /opt/darknet
./darknet detector test cfg/coco.data cfg/yolov3.cfg yolov3.weights "$INPUT_FILE_PATH" -dont_show \
  > "$TMP_OUTPUT_DIR/$name.txt"
mv predictions.jpg "$TMP_OUTPUT_DIR/$name.predictions.jpg"
cat "$TMP_OUTPUT_DIR/$name.txt"   # the answer of an HTTP call, and the function's log
