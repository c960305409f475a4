// Copy the files Strawberry's GraphiQL page loads from unpkg into
// backend/pommel/web/static/vendor/<pkg>@<version>/<path>, from the npm packages pinned in
// package.json. The server rewrites the page's `https://unpkg.com/` to `/static/vendor/`, and
// the files are byte-identical to unpkg's, so the page's `integrity=` hashes still hold and
// GraphiQL works with no internet. tests/web/test_graphiql_assets.py checks every hash.
//
// When the Python virtualenv is beside us, the page Strawberry ships is read too, and a URL it
// names that this list does not cover stops the build, naming what to add.
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, "..");
const repo = resolve(frontend, "..");
const target = join(repo, "backend", "pommel", "web", "static", "vendor");

/** [package, version, file] exactly as the page's unpkg URLs name them. */
const ASSETS = [
  ["react", "18.2.0", "umd/react.production.min.js"],
  ["react-dom", "18.2.0", "umd/react-dom.production.min.js"],
  ["js-cookie", "3.0.5", "dist/js.cookie.min.js"],
  ["graphiql", "3.8.3", "graphiql.min.css"],
  ["graphiql", "3.8.3", "graphiql.min.js"],
  ["@graphiql/plugin-explorer", "1.0.2", "dist/style.css"],
  ["@graphiql/plugin-explorer", "1.0.2", "dist/index.umd.js"],
];

const UNPKG = /https:\/\/unpkg\.com\/((?:@[^/@]+\/)?[^/@]+)@([^/]+)\/([^"'\s]+)/g;

function fail(message) {
  console.error(`copy-graphiql-vendor: ${message}`);
  process.exit(1);
}

function strawberryPage() {
  const lib = join(repo, ".venv", "lib");
  if (!existsSync(lib)) return null;
  for (const python of readdirSync(lib)) {
    const page = join(lib, python, "site-packages", "strawberry", "static", "graphiql.html");
    if (existsSync(page)) return page;
  }
  return null;
}

function checkAgainstPage(page) {
  const wanted = new Set(ASSETS.map(([pkg, version, file]) => `${pkg}@${version}/${file}`));
  const missing = [];
  for (const match of readFileSync(page, "utf8").matchAll(UNPKG)) {
    const key = `${match[1]}@${match[2]}/${match[3]}`;
    if (!wanted.has(key)) missing.push(key);
  }
  if (missing.length) {
    fail(
      `Strawberry's GraphiQL page (${page}) loads files this script does not copy:\n  ` +
        missing.join("\n  ") +
        "\nAdd them to ASSETS here and pin the packages at those versions in package.json.",
    );
  }
}

function installedVersion(pkg) {
  const manifest = join(frontend, "node_modules", pkg, "package.json");
  if (!existsSync(manifest)) return null;
  return JSON.parse(readFileSync(manifest, "utf8")).version;
}

const page = strawberryPage();
if (page) checkAgainstPage(page);

const manifest = {};
for (const [pkg, version, file] of ASSETS) {
  const installed = installedVersion(pkg);
  if (installed !== version) {
    fail(
      `${pkg}@${version} is needed for GraphiQL but node_modules has ${installed ?? "nothing"}; ` +
        `pin "${pkg}": "${version}" in frontend/package.json and run npm ci.`,
    );
  }
  const source = join(frontend, "node_modules", pkg, file);
  const key = `${pkg}@${version}/${file}`;
  const destination = join(target, key);
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(source, destination);
  const digest = createHash("sha384").update(readFileSync(source)).digest("base64");
  manifest[key] = `sha384-${digest}`;
}
writeFileSync(join(target, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
