// Reads each file named on the command line with gray-matter; prints their data and content as JSON.
const matter = require("gray-matter");
const fs = require("fs");

const documents = process.argv.slice(2).map((path) => {
  const { data, content } = matter(fs.readFileSync(path, "utf8"));
  return { data, content };
});
process.stdout.write(JSON.stringify(documents));
