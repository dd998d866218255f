/**
 * The fleet the command line simulates: vehicles "SIM 0001", "SIM 0002", … modelled on
 * the Kupang demo fleet in turn (its cars, pickups, trucks, buses, ambulances and
 * motorcycles, with their sensors and departments' duties).
 */
import { demoSimVehicle, demoVehicles, type DemoVehicle } from './demo-fleet.js';
import type { OutputFormat } from './formats.js';
import type { SimVehicle } from './vehicles.js';

export function simPlate(index: number): string {
  return `SIM ${String(index).padStart(4, '0')}`;
}

/** "sim-0001"; OwnTracks devices are "user/device": "sim/sim-0001". */
export function simDeviceId(index: number, format: OutputFormat): string {
  const device = simPlate(index).toLowerCase().replace(' ', '-');
  return format === 'owntracks' ? `sim/${device}` : device;
}

export function simTemplate(index: number): DemoVehicle {
  return demoVehicles[(index - 1) % demoVehicles.length]!;
}

export function simulatedFleet(count: number, format: OutputFormat): SimVehicle[] {
  return Array.from({ length: count }, (_, i) => ({
    ...demoSimVehicle(simTemplate(i + 1), simDeviceId(i + 1, format)),
    plateNumber: simPlate(i + 1),
  }));
}
