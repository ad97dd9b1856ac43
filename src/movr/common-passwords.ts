// Passwords of ten characters or more that appear near the top of public breach lists. MovR
// refuses them (and the patterns in users.ts) because they are the first an attacker tries.
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '1234567890', '0987654321', '12345678910', '123456789a', '1234567890a', '1q2w3e4r5t', '1q2w3e4r5t6y',
  'qwertyuiop', 'qwertyuiop1', 'asdfghjkl1', 'asdfghjkl;', 'zxcvbnm123', '1qaz2wsx3edc', 'qazwsxedc1',
  'qazwsxedcrfv', 'zaq12wsxcde3', 'password12', 'password123', 'password1234', 'password01', 'passw0rd12',
  'p@ssw0rd12', 'p@ssword123', 'password!1', 'iloveyou12', 'iloveyou123', 'princess12', 'sunshine12',
  'football12', 'football123', 'baseball12', 'basketball', 'basketball1', 'superman12', 'starwars12',
  'welcome123', 'welcome1234', 'letmein123', 'trustno1234', 'administrator', 'admin12345', 'admin123456',
  'qwerty1234', 'qwerty12345', 'qwerty123456', 'abc1234567', 'abcdefghij', 'abcdefg123', 'abcd123456',
  'a123456789', 'aa12345678', 'monkey1234', 'dragon1234', 'master1234', 'shadow1234', 'michael123',
  'jennifer12', 'changeme123', 'changeme12', 'secret1234', 'computer12', 'internet12', 'whatever12',
  'chocolate1', 'butterfly1', 'liverpool1', 'manchester', 'blink18218', 'myspace123', 'facebook12',
  'mustang123', 'pokemon123', 'samsung123', 'soccer1234', 'hello12345', 'freedom123', 'matrix1234',
  'summer2024', 'summer2025', 'summer2026', 'winter2024', 'winter2025', 'winter2026', 'spring2025',
  'spring2026', 'autumn2025', 'autumn2026', 'movr123456', 'movrmovrmovr', 'scooter123', 'scooter1234',
  'skateboard', 'skateboard1', 'bicycle123', 'qwertzuiop', 'azertyuiop', '11111111111', '1111111111',
  '0000000000', '1212121212', '1231231231', '1234512345', '9876543210', '5555555555', '7777777777',
]);
