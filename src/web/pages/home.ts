// GET /: the cities MovR serves, grouped by region, each with its number of vehicles.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { countVehiclesByCity } from '../../movr/vehicles.ts';
import { cityCentre } from '../../region-map.ts';
import { worldMapSvg } from '../maps/world-map.ts';
import { cityLabel, cityVehiclesPath, regionLabel, vehicleCountLabel } from './format.ts';

export interface HomeCity {
  name: string;
  label: string;
  href: string;
  vehicles: number;
  vehiclesLabel: string;
}

export interface HomeRegion {
  region: string;
  label: string;
  home: boolean;
  vehicles: number;
  vehiclesLabel: string;
  cities: HomeCity[];
}

export const homePlugin: FastifyPluginAsyncZod = async (app) => {
  const { config, db, regions: regionMap } = app;
  const drawWorldMap = (counts: ReadonlyMap<string, number>) =>
    worldMapSvg(
      regionMap.citiesByRegion(config.region).map(({ region, cities }) => ({
        region,
        label: regionLabel(region),
        cities: cities.map((city) => ({
          label: cityLabel(city.name),
          ...cityCentre(city),
          href: cityVehiclesPath(city.name),
          note: vehicleCountLabel(counts.get(city.name) ?? 0),
        })),
      })),
    );
  // The land outlines are projected once, now, rather than on the first visitor's request.
  drawWorldMap(new Map());
  app.get('/', async (_request, reply) => {
    const counts = await countVehiclesByCity(db);
    const regions: HomeRegion[] = regionMap.citiesByRegion(config.region).map(({ region, cities }) => {
      const homeCities = cities.map((city) => {
        const vehicles = counts.get(city.name) ?? 0;
        return {
          name: city.name,
          label: cityLabel(city.name),
          href: cityVehiclesPath(city.name),
          vehicles,
          vehiclesLabel: vehicleCountLabel(vehicles),
        };
      });
      const vehicles = homeCities.reduce((sum, city) => sum + city.vehicles, 0);
      return {
        region,
        label: regionLabel(region),
        home: region === config.region,
        vehicles,
        vehiclesLabel: vehicleCountLabel(vehicles),
        cities: homeCities,
      };
    });
    const totalVehicles = regions.reduce((sum, region) => sum + region.vehicles, 0);
    const cityCount = regions.reduce((sum, region) => sum + region.cities.length, 0);
    const worldMap = drawWorldMap(counts);
    return reply.page('home', {
      title: 'Cities',
      worldMap,
      nav: 'cities',
      regions,
      homeRegion: config.region,
      totalVehicles,
      totalLabel: `${vehicleCountLabel(totalVehicles)} in ${cityCount} cities`,
    });
  });
};
