// "Use my location" on a city's page: a progressive enhancement. Without JavaScript (or
// without geolocation) the button stays hidden and the form works with typed coordinates.
(() => {
  const form = document.querySelector('[data-near-form]');
  const button = form && form.querySelector('[data-locate]');
  if (!form || !button || !('geolocation' in navigator)) return;
  const status = form.querySelector('[data-locate-status]');
  const say = (text) => { if (status) status.textContent = text; };
  button.hidden = false;
  button.addEventListener('click', () => {
    say('Finding where you are…');
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        form.elements.namedItem('lat').value = position.coords.latitude.toFixed(5);
        form.elements.namedItem('long').value = position.coords.longitude.toFixed(5);
        say('Location filled in.');
        form.requestSubmit();
      },
      (error) => {
        button.disabled = false;
        say(error.code === 1 ? 'Location access was refused: type a point instead.' : 'Your location is not available: type a point instead.');
      },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  });
})();
