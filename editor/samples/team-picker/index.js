// From the 13 characters of "Attack on Titan", draw 4 random teams of 3; the one left over sits out.
const CHARACTERS = [
  "Eren", "Mikasa", "Armin", "Levi", "Erwin", "Hange", "Jean",
  "Connie", "Sasha", "Historia", "Reiner", "Bertholdt", "Annie",
];

const TEAM_COUNT = Number(process.env.TEAM_COUNT || 4);
const TEAM_SIZE = Number(process.env.TEAM_SIZE || 3);

// Fisher-Yates: every order equally likely.
function shuffle(items) {
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

exports.handler = async (event) => {
  const shuffled = shuffle(CHARACTERS);
  const teams = [];
  for (let t = 0; t < TEAM_COUNT; t += 1) {
    const members = shuffled.slice(t * TEAM_SIZE, (t + 1) * TEAM_SIZE);
    teams.push({ team: t + 1, members });
    console.log(`Team ${t + 1}: ${members.join(", ")}`);
  }
  const leftOut = shuffled.slice(TEAM_COUNT * TEAM_SIZE);
  console.log(`Left out: ${leftOut.join(", ")}`);
  return { teams, leftOut };
};
