#!/usr/bin/env node
// Runs a TensorFlow.js graph model on the pure-JS CPU backend and writes its
// outputs, so the Go importer's tests can compare ONNX Runtime against
// TF.js itself. Everything is read from and written to local files: no
// network, no native add-on.
//
// usage:
//   node reference.js --model DIR/NAME.json \
//     --input NAME=FILE.f32:D0,D1,... [--input ...] \
//     [--output NODE[:0]] [--output ...] \
//     --out-dir DIR
//
// Inputs are raw little-endian float32 files with the given shape, fed by
// name (a Placeholder name or a signature input key). Outputs are node
// names (or signature output keys); without --output the model's own
// outputs are fetched. For output i the runner writes DIR/outI.f32 (raw
// little-endian float32) and lists all of them in DIR/outputs.json:
//   {"backend": "cpu", "tfjs": "4.22.0",
//    "outputs": [{"name": ..., "shape": [...], "dtype": ..., "file": "out0.f32"}]}
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfconv = require('@tensorflow/tfjs-converter');

function usage(msg) {
  if (msg) process.stderr.write(`reference.js: ${msg}\n`);
  process.stderr.write('usage: node reference.js --model model.json --input NAME=FILE.f32:D0,D1,... ' +
    '[--output NODE ...] --out-dir DIR\n');
  process.exit(2);
}

function parseArgs(argv) {
  const args = { inputs: [], outputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--model': args.model = next(); break;
      case '--out-dir': args.outDir = next(); break;
      case '--output': args.outputs.push(next()); break;
      case '--input': {
        const spec = next();
        const eq = spec.indexOf('=');
        const colon = spec.lastIndexOf(':');
        if (eq <= 0 || colon < eq) usage(`bad --input ${spec}`);
        const shape = spec.slice(colon + 1).split(',').filter((s) => s !== '').map(Number);
        if (shape.some((d) => !Number.isInteger(d) || d < 0)) usage(`bad shape in --input ${spec}`);
        args.inputs.push({ name: spec.slice(0, eq), file: spec.slice(eq + 1, colon), shape });
        break;
      }
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!args.model) usage('--model is required');
  if (!args.outDir) usage('--out-dir is required');
  return args;
}

// fileHandler is a tf.io.IOHandler that reads model.json and its weight
// shards from disk (concatenated in manifest order, as TF.js expects).
function fileHandler(modelPath) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
      const dir = path.dirname(modelPath);
      const specs = [];
      const buffers = [];
      for (const group of json.weightsManifest || []) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
        weightSpecs: specs,
        weightData,
      };
    },
  };
}

function readFloat32(file, shape) {
  const buf = fs.readFileSync(file);
  const n = shape.reduce((a, b) => a * b, 1);
  if (buf.length !== 4 * n) {
    throw new Error(`${file} holds ${buf.length} bytes, shape [${shape}] needs ${4 * n}`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(4 * i);
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  await tf.setBackend('cpu');
  await tf.ready();
  const model = await tfconv.loadGraphModel(fileHandler(args.model));
  const feed = {};
  for (const input of args.inputs) {
    feed[input.name] = tf.tensor(readFloat32(input.file, input.shape), input.shape, 'float32');
  }
  const names = args.outputs.length > 0 ? args.outputs : model.outputs.map((o) => o.name);
  let result = await model.executeAsync(feed, names);
  if (!Array.isArray(result)) result = [result];
  fs.mkdirSync(args.outDir, { recursive: true });
  const listed = [];
  for (let i = 0; i < result.length; i++) {
    const t = result[i];
    const data = Float32Array.from(await t.data());
    const file = `out${i}.f32`;
    const bytes = Buffer.alloc(4 * data.length);
    for (let j = 0; j < data.length; j++) bytes.writeFloatLE(data[j], 4 * j);
    fs.writeFileSync(path.join(args.outDir, file), bytes);
    listed.push({ name: names[i], shape: t.shape, dtype: t.dtype, file });
  }
  const meta = { backend: tf.getBackend(), tfjs: tf.version_core, outputs: listed };
  fs.writeFileSync(path.join(args.outDir, 'outputs.json'), JSON.stringify(meta, null, 1) + '\n');
}

main().catch((err) => {
  process.stderr.write(`reference.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
