// Small built-in word lists for generated names, addresses, promo codes and demo passwords
// (the CockroachDB workload uses a faker library; MovR needs no such dependency).

export const FIRST_NAMES = [
  'Aaliyah', 'Aaron', 'Abigail', 'Adam', 'Aisha', 'Alejandro', 'Alice', 'Amara', 'Amelia', 'Andrea',
  'Anna', 'Antonio', 'Arjun', 'Ava', 'Benjamin', 'Bianca', 'Camille', 'Carlos', 'Charlotte', 'Chen',
  'Chloe', 'Daniel', 'David', 'Diego', 'Elena', 'Eli', 'Emma', 'Ethan', 'Fatima', 'Felix',
  'Francesca', 'Gabriel', 'Grace', 'Hana', 'Hannah', 'Hugo', 'Isabella', 'Ivan', 'Jack', 'James',
  'Jasmine', 'Javier', 'Julia', 'Kai', 'Kenji', 'Laura', 'Leila', 'Leo', 'Liam', 'Lucas',
  'Lucia', 'Maya', 'Mei', 'Mia', 'Mohammed', 'Nadia', 'Noah', 'Nora', 'Olivia', 'Omar',
  'Pablo', 'Priya', 'Rafael', 'Rosa', 'Samuel', 'Santiago', 'Sara', 'Sofia', 'Thomas', 'Valentina',
  'Victor', 'William', 'Yuki', 'Zoe',
] as const;

export const LAST_NAMES = [
  'Abbott', 'Alvarez', 'Andersen', 'Bakker', 'Bernard', 'Bianchi', 'Brown', 'Carter', 'Chen', 'Clark',
  'Colombo', 'Costa', 'Davis', 'de Vries', 'Dubois', 'Esposito', 'Evans', 'Fischer', 'Garcia', 'Gonzalez',
  'Green', 'Hall', 'Hernandez', 'Ito', 'Jansen', 'Johnson', 'Kim', 'Kowalski', 'Lee', 'Lefebvre',
  'Lopez', 'Martin', 'Martinez', 'Meyer', 'Moreau', 'Murphy', 'Nguyen', 'Novak', 'Okafor', 'Olsen',
  'Park', 'Patel', 'Perez', 'Ricci', 'Robinson', 'Romano', 'Rossi', 'Sanchez', 'Santos', 'Schmidt',
  'Silva', 'Singh', 'Smith', 'Suzuki', 'Tanaka', 'Taylor', 'Thompson', 'Visser', 'Walker', 'Wang',
  'Williams', 'Wilson', 'Wong', 'Young',
] as const;

export const STREET_NAMES = [
  'Acacia', 'Ash', 'Bay', 'Beacon', 'Birch', 'Broad', 'Canal', 'Cedar', 'Central', 'Chestnut',
  'Church', 'Cliff', 'College', 'Elm', 'Garden', 'Grand', 'Harbor', 'High', 'Highland', 'Hill',
  'Lake', 'Laurel', 'Liberty', 'Linden', 'Maple', 'Market', 'Meadow', 'Mill', 'Mission', 'Oak',
  'Orchard', 'Park', 'Pine', 'Pleasant', 'Port', 'Ridge', 'River', 'Spring', 'Sunset', 'Union',
  'Valley', 'Walnut', 'Washington', 'Water', 'Willow', 'Windsor',
] as const;

export const STREET_SUFFIXES = [
  'Street', 'Avenue', 'Road', 'Boulevard', 'Lane', 'Drive', 'Way', 'Place', 'Court', 'Square',
] as const;

/** Words for promo codes, descriptions and memorable demo passwords. */
export const PROMO_ADJECTIVES = [
  'amber', 'brave', 'bright', 'calm', 'clever', 'cosy', 'crisp', 'eager', 'early', 'fast',
  'fresh', 'gentle', 'golden', 'happy', 'jolly', 'keen', 'lively', 'lucky', 'mellow', 'merry',
  'nimble', 'quick', 'quiet', 'rapid', 'sunny', 'swift', 'urban', 'vivid', 'warm', 'witty',
] as const;

export const PROMO_NOUNS = [
  'autumn', 'bell', 'breeze', 'bridge', 'canal', 'city', 'comet', 'corner', 'dawn', 'evening',
  'ferry', 'garden', 'harbor', 'journey', 'lantern', 'meadow', 'morning', 'park', 'pedal', 'plaza',
  'river', 'road', 'route', 'spring', 'summer', 'sunrise', 'trail', 'wheel', 'wind', 'winter',
] as const;

export const PROMO_PHRASES = [
  'Ride more, pay less',
  'A thank-you for riding with MovR',
  'Welcome offer for new riders',
  'Weekend special',
  'Commuter discount',
  'Off-peak savings',
  'Celebrate the season with a ride',
  'Explore the city for less',
  'Partner offer',
  'Loyalty reward',
] as const;
