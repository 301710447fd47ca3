// Runs an actions/github-script body the way the action does (an async function of github,
// context, core and require), against an in-memory fake of the few REST calls it makes.
// usage: node github_script.js SCRIPT_FILE STATE_JSON   -> prints the calls made, as JSON
const fs = require('fs');
const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const calls = [];
const record = (name) => async (args) => { calls.push([name, args]); return { data: {} }; };
const issues = {
  listComments: async () => ({ data: state.comments || [] }),
  listForRepo: async () => ({ data: state.issues || [] }),
  createComment: record('createComment'),
  updateComment: record('updateComment'),
  create: record('create'),
  update: record('update'),
};
const github = {
  rest: { issues },
  paginate: async (method, args) => {
    calls.push(['paginate', args]);
    return (await method(args)).data;
  },
};
const context = {
  repo: { owner: 'contoso', repo: 'identity-specs' },
  issue: { number: 7 },
  serverUrl: 'https://github.com',
  runId: 42,
};
const core = { exportVariable: () => {}, getIDToken: async () => 'token' };
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const body = fs.readFileSync(scriptFile, 'utf8');
new AsyncFunction('github', 'context', 'core', 'require', body)(github, context, core, require)
  .then(() => process.stdout.write(JSON.stringify(calls)))
  .catch((err) => { console.error(err); process.exit(1); });
